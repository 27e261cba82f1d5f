"""bcrypt hashing, run off the event loop: one hash at cost 12 takes ~0.25 s of CPU."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from importlib import resources

import bcrypt

from madhur_gql.errors import BadUserInput

MIN_PASSWORD_LENGTH = 10
BCRYPT_MAX_BYTES = 72  # bcrypt 5 raises beyond this instead of silently truncating


@lru_cache
def common_passwords() -> frozenset[str]:
    text = resources.files("madhur_gql.auth").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def validate_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.", field="password"
        )
    if len(password.encode()) > BCRYPT_MAX_BYTES:
        raise BadUserInput(
            f"Password must be at most {BCRYPT_MAX_BYTES} bytes long.", field="password"
        )
    if password.lower() in common_passwords():
        raise BadUserInput("This password is too common; choose another.", field="password")


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def _check(password: str, password_hash: str) -> bool:
    encoded = password.encode()
    if len(encoded) > BCRYPT_MAX_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode())


async def hash_password(password: str, rounds: int) -> str:
    return await asyncio.to_thread(_hash, password, rounds)


async def check_password(password: str, password_hash: str) -> bool:
    return await asyncio.to_thread(_check, password, password_hash)


@lru_cache
def dummy_hash(rounds: int) -> str:
    """A hash to check against when the email is unknown, so both failures take as long."""
    return _hash("no such user, no such password", rounds)
