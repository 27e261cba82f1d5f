"""Registration, login and the refresh-token lifecycle."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from madhur_gql.auth.passwords import (
    check_password,
    dummy_hash,
    hash_password,
    validate_new_password,
)
from madhur_gql.auth.tokens import hash_refresh_token, issue_access_token, new_refresh_token
from madhur_gql.config import Settings
from madhur_gql.documents import Interaction, RefreshToken, Role, User
from madhur_gql.errors import BadUserInput, Conflict, Unauthenticated

# Deliberately simple: one "@", a dot in the domain, no spaces. Deliverability is for e-mail.
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 80
INVALID_CREDENTIALS = "Invalid email or password."


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    refresh_token: str
    user: User


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise BadUserInput("Enter a valid email address.", field="email")
    return email


def validate_display_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise BadUserInput("Display name must not be empty.", field="displayName")
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise BadUserInput(
            f"Display name must be at most {MAX_DISPLAY_NAME_LENGTH} characters.",
            field="displayName",
        )
    return name


class AccountService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def register(
        self, email: str, password: str, display_name: str, role: Role = Role.USER
    ) -> Session:
        email = normalise_email(email)
        display_name = validate_display_name(display_name)
        validate_new_password(password)
        if await User.find_one(User.email == email) is not None:
            raise Conflict("An account with this email already exists.", field="email")
        user = User(
            email=email,
            password_hash=await hash_password(password, self.settings.bcrypt_rounds),
            display_name=display_name,
            role=role,
        )
        try:
            await user.insert()
        except DuplicateKeyError as exc:  # lost a race with a concurrent registration
            raise Conflict("An account with this email already exists.", field="email") from exc
        return await self._start_session(user, family_id=uuid.uuid4().hex)

    async def authenticate(self, email: str, password: str) -> User:
        """The user, or one error for both unknown email and wrong password (no enumeration)."""
        try:
            email = normalise_email(email)
        except BadUserInput:
            email = ""
        user = await User.find_one(User.email == email) if email else None
        password_hash = user.password_hash if user else dummy_hash(self.settings.bcrypt_rounds)
        password_ok = await check_password(password, password_hash)
        if user is None or not password_ok:
            raise Unauthenticated(INVALID_CREDENTIALS)
        return user

    async def login(self, email: str, password: str) -> Session:
        user = await self.authenticate(email, password)
        return await self._start_session(user, family_id=uuid.uuid4().hex)

    async def refresh(self, refresh_token: str) -> Session:
        """Rotate: the presented token is spent, a new one of the same family is issued.

        A spent token presented again means it was stolen (or replayed): the family dies.
        """
        now = datetime.now(UTC)
        token_hash = hash_refresh_token(refresh_token)
        # Atomic claim: of two concurrent refreshes with one token, only one can win.
        stored = await RefreshToken.get_pymongo_collection().find_one_and_update(
            {"token_hash": token_hash, "rotated_at": None, "revoked_at": None},
            {"$set": {"rotated_at": now}},
        )
        if stored is None:
            spent = await RefreshToken.find_one(RefreshToken.token_hash == token_hash)
            if spent is not None and spent.revoked_at is None:
                await self._revoke_family(spent.family_id, now)
            raise Unauthenticated("Invalid refresh token; log in again.")
        token = RefreshToken.model_validate(stored)
        if _aware(token.expires_at) <= now:
            raise Unauthenticated("Refresh token expired; log in again.")
        user = await User.get(token.user_id)
        if user is None:
            raise Unauthenticated("Invalid refresh token; log in again.")
        return await self._start_session(user, family_id=token.family_id)

    async def logout(self, refresh_token: str) -> bool:
        token = await RefreshToken.find_one(
            RefreshToken.token_hash == hash_refresh_token(refresh_token)
        )
        if token is None:
            return False
        await self._revoke_family(token.family_id, datetime.now(UTC))
        return True

    async def logout_everywhere(self, user_id: PydanticObjectId) -> int:
        result = await RefreshToken.find(
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at == None,  # noqa: E711
        ).update_many({"$set": {"revoked_at": datetime.now(UTC)}})
        return int(result.modified_count) if result else 0

    async def delete_user(self, user: User) -> None:
        assert user.id is not None
        await Interaction.find(Interaction.user_id == user.id).delete()
        await RefreshToken.find(RefreshToken.user_id == user.id).delete()
        await user.delete()

    async def _revoke_family(self, family_id: str, now: datetime) -> None:
        await RefreshToken.find(
            RefreshToken.family_id == family_id,
            RefreshToken.revoked_at == None,  # noqa: E711
        ).update_many({"$set": {"revoked_at": now}})

    async def _start_session(self, user: User, family_id: str) -> Session:
        assert user.id is not None
        refresh_token = new_refresh_token()
        await RefreshToken(
            token_hash=hash_refresh_token(refresh_token),
            user_id=user.id,
            family_id=family_id,
            expires_at=datetime.now(UTC) + timedelta(days=self.settings.refresh_token_days),
        ).insert()
        access_token = issue_access_token(self.settings, str(user.id), user.role.value)
        return Session(access_token=access_token, refresh_token=refresh_token, user=user)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
