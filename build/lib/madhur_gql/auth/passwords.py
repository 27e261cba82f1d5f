"""bcrypt hashing, run off the event loop: one hash at cost 12 takes ~0.25 s of CPU."""

from __future__ import annotations

import asyncio
import re
from functools import lru_cache
from importlib import resources

import bcrypt

from madhur_gql.errors import BadUserInput

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 72  # characters; the byte limit below is the one that bites
BCRYPT_MAX_BYTES = 72  # bcrypt 5 raises beyond this instead of silently truncating
_COST = re.compile(r"^\$2[aby]?\$(\d{2})\$")


@lru_cache
def common_passwords() -> frozenset[str]:
    text = resources.files("madhur_gql.auth").joinpath("common_passwords.txt").read_text()
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def _utf8(text: str) -> bytes | None:
    """UTF-8 bytes, or None for text JSON let through but UTF-8 cannot hold (lone surrogates)."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return None


def _too_guessable(password: str, email: str | None) -> bool:
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) < 4:
        return True
    # "password2024!" is as weak as "password": strip the usual decorations and look again.
    core = lowered.strip("0123456789!@#$%^&*.?_- ")
    if core in common_passwords() or (core and core * 2 in common_passwords()):
        return True
    if email:
        local = email.split("@", 1)[0].lower()
        if len(local) >= 4 and (local in lowered or lowered in email.lower()):
            return True
    return False


def validate_new_password(password: str, email: str | None = None) -> None:
    """Refuse what bcrypt cannot take and what an attacker would guess first (NIST 800-63B)."""
    encoded = _utf8(password)
    if encoded is None:
        raise BadUserInput("Password must be valid Unicode text.", field="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.", field="password"
        )
    if len(encoded) > BCRYPT_MAX_BYTES:
        raise BadUserInput(
            f"Password must be at most {BCRYPT_MAX_BYTES} bytes long (UTF-8); "
            "use a shorter passphrase.",
            field="password",
        )
    if _too_guessable(password, email):
        raise BadUserInput(
            "This password is too common or too easy to guess; choose another.", field="password"
        )


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def _check(password: str, password_hash: str) -> bool:
    encoded = _utf8(password)
    if encoded is None or len(encoded) > BCRYPT_MAX_BYTES:
        # Could never have been set; still spend the same time so the answer reveals nothing.
        bcrypt.checkpw(b"x", password_hash.encode())
        return False
    return bcrypt.checkpw(encoded, password_hash.encode())


async def hash_password(password: str, rounds: int) -> str:
    return await asyncio.to_thread(_hash, password, rounds)


async def check_password(password: str, password_hash: str) -> bool:
    return await asyncio.to_thread(_check, password, password_hash)


def needs_rehash(password_hash: str, rounds: int) -> bool:
    """True when the hash is cheaper than the configured cost: upgrade it at the next login."""
    match = _COST.match(password_hash)
    return match is None or int(match.group(1)) < rounds


@lru_cache
def dummy_hash(rounds: int) -> str:
    """A hash to check against when the email is unknown, so both failures take as long."""
    return _hash("no such user, no such password", rounds)
