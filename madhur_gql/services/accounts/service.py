"""Registration, login, the refresh-token lifecycle and the caller's own account.

Every password check goes through `_verify_password`, which applies the login throttle, so
no operation (login, changePassword, deleteMe) is an unthrottled password oracle.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId
from cachetools import TTLCache
from pymongo.errors import DuplicateKeyError

from madhur_gql.auth.passwords import (
    check_password,
    dummy_hash,
    hash_password,
    needs_rehash,
    validate_new_password,
)
from madhur_gql.auth.tokens import (
    AccessClaims,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
)
from madhur_gql.config import Settings
from madhur_gql.documents import (
    Interaction,
    InteractionKind,
    Like,
    Playlist,
    RefreshToken,
    Role,
    Song,
    User,
)
from madhur_gql.documents.user import MAX_ENDED_SESSIONS
from madhur_gql.domain import locales
from madhur_gql.domain.names import refuse_hidden
from madhur_gql.domain.song_fields import MAX_GENRE, name_key
from madhur_gql.errors import BadUserInput, Conflict, NotFound, Unauthenticated
from madhur_gql.recommender.mood import Mood
from madhur_gql.services.accounts.throttle import LoginThrottle
from madhur_gql.services.library import likes

# Deliberately simple: one "@", a dot in the domain, no spaces. Deliverability is for e-mail.
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 80
INVALID_CREDENTIALS = "Invalid email or password."
WRONG_PASSWORD = "The password is not correct."  # noqa: S105 - a message
MAX_FAVOURITES = 20

AUTH_CACHE_SECONDS = 0.5  # under the 1 s the README promises for revocations
AUTH_FOLLOWED_SECONDS = 60.0  # an entry's life while the users change stream vouches for it
AUTH_CACHE_SIZE = 100_000


def _holding(user: User | None, claims: AccessClaims) -> User:
    """The caller's own copy of the account, or UNAUTHENTICATED when the token no longer holds
    for it (a request may change its copy; the cached one stays)."""
    if user is None:  # deleted account with a still-valid token
        raise Unauthenticated("This account no longer exists.")
    if user.token_version != claims.version or claims.session_id in user.ended_sessions:
        raise Unauthenticated("This session has ended; log in again.")
    return user.model_copy()


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    refresh_token: str
    user: User


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """One login (a refresh-token family) that can still be refreshed."""

    id: str
    last_used_at: datetime
    expires_at: datetime


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if (
        len(email) > MAX_EMAIL_LENGTH
        or not EMAIL_PATTERN.match(email)
        or not email.isprintable()
        or not _utf8_safe(email)
    ):
        raise BadUserInput("Enter a valid email address.", field="email")
    return email


def _utf8_safe(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # lone surrogates: the database could not even store it
        return False
    return True


def validate_display_name(name: str) -> str:
    refuse_hidden(name, what="Display name", field="displayName")
    name = " ".join(name.split())
    if not name or not name.isprintable() or not _utf8_safe(name):
        raise BadUserInput("Display name must be printable text, not empty.", field="displayName")
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise BadUserInput(
            f"Display name must be at most {MAX_DISPLAY_NAME_LENGTH} characters.",
            field="displayName",
        )
    return name


def validate_genres(genres: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(name_key(g) for g in genres))
    if len(cleaned) > MAX_FAVOURITES or any(not g or len(g) > MAX_GENRE for g in cleaned):
        raise BadUserInput(
            f"At most {MAX_FAVOURITES} genres of 1..{MAX_GENRE} characters.",
            field="favouriteGenres",
        )
    return cleaned


class AccountService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.throttle = LoginThrottle(settings)
        # Called with the id of each deleted account: shared in-memory state forgets it
        # (app.py hands it to the one door, services/live.py).
        self.deleted: list[Callable[[str], None]] = []
        # The account behind each live token, with when it was read: a request does not read
        # it from the database. Writes here, and the users change stream (services/live.py),
        # drop an entry at once. An entry is used for AUTH_CACHE_SECONDS, or longer while the
        # users stream has caught up within AUTH_CACHE_SECONDS (`users_caught_up`, set by
        # app.py): either way a revocation elsewhere (another worker, another replica) is seen
        # within that time, even when the stream lags or is down. Rereading every account
        # twice a second sent each active listener's requests to a busy database.
        self._users: TTLCache[str, tuple[User, float]] = TTLCache(
            maxsize=AUTH_CACHE_SIZE, ttl=AUTH_FOLLOWED_SECONDS
        )
        self.users_caught_up: Callable[[], float] = lambda: -math.inf
        # One read in flight per account: when an entry expires under load, the concurrent
        # requests of that account share one read instead of each sending its own.
        self._loading: dict[str, asyncio.Future[User | None]] = {}
        dummy_hash(settings.bcrypt_rounds)  # now, so the first unknown-email login is not slower

    def forget_user(self, user_id: object) -> None:
        """Drop the cached account, and any read in flight (it may predate the change)."""
        self._users.pop(str(user_id), None)
        self._loading.pop(str(user_id), None)

    async def _read_user(self, user_id: str) -> User | None:
        flight = self._loading.get(user_id)
        if flight is None:
            asked_at = time.monotonic()  # the entry's age counts from here, not its landing
            flight = asyncio.ensure_future(User.get(PydanticObjectId(user_id)))
            self._loading[user_id] = flight
            flight.add_done_callback(lambda done: self._landed(user_id, done, asked_at))
        return await asyncio.shield(flight)

    def _landed(self, user_id: str, flight: asyncio.Future[User | None], asked_at: float) -> None:
        if self._loading.get(user_id) is not flight:  # forgotten meanwhile: not cached
            return
        del self._loading[user_id]
        if not flight.cancelled() and flight.exception() is None:
            user = flight.result()
            if user is not None:
                self._users[user_id] = (user, asked_at)

    def _cached(self, user_id: str) -> User | None:
        entry = self._users.get(user_id)
        if entry is None:
            return None
        user, read_at = entry
        oldest = time.monotonic() - AUTH_CACHE_SECONDS
        return user if read_at >= oldest or self.users_caught_up() >= oldest else None

    async def current_user(self, claims: AccessClaims, *, fresh: bool = False) -> User:
        """The account an access token names, or UNAUTHENTICATED when the token no longer holds.

        The one check of a caller's identity: every field that uses it comes through here.
        A token holds while its account exists, its token version is the account's (bumped
        by changePassword and logoutEverywhere) and its session has not ended (logout,
        revokeSession, refresh-token reuse). One read of the account (or its cached copy,
        dropped by every such write) answers all three. `fresh` reads it from the database:
        for answers that show the account itself (`me`), which must reflect the caller's own
        edits made through any worker.
        """
        user_id = claims.user_id
        if fresh:
            self.forget_user(user_id)
        user = self._cached(user_id)
        if user is None:
            user = await self._read_user(user_id)
        return _holding(user, claims)

    def cached_user(self, claims: AccessClaims) -> User | None:
        """`current_user` when the cache may answer, without an await (each one is a turn of
        a busy loop, milliseconds under load); None when the account must be read."""
        user = self._cached(claims.user_id)
        return None if user is None else _holding(user, claims)

    async def register(
        self,
        email: str,
        password: str,
        display_name: str,
        role: Role = Role.USER,
        address: str | None = None,
    ) -> Session:
        keys = self.throttle.registration_keys(address)
        signups = self.throttle.signup_keys(address)
        await self.throttle.check(keys + signups)
        try:
            user = await self.create_user(email, password, display_name, role)
        except Conflict:
            await self.throttle.record_failure(keys, in_flight=False)
            raise
        await self.throttle.record_failure(signups, in_flight=False)  # counted like a failure
        return await self._start_session(user, family_id=uuid.uuid4().hex)

    async def create_user(
        self, email: str, password: str, display_name: str, role: Role = Role.USER
    ) -> User:
        """A new account (the CLI makes admins with it); no session."""
        email = normalise_email(email)
        display_name = validate_display_name(display_name)
        validate_new_password(password, email)
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
        return user

    async def authenticate(self, email: str, password: str, address: str | None = None) -> User:
        """The user, or one error for both unknown email and wrong password (no enumeration).

        Both paths look the email up and run one bcrypt check, so they take the same time;
        both count towards the throttle, so a lock says nothing about whether the account exists.
        """
        try:
            email = normalise_email(email)
        except BadUserInput:
            email = ""
        user = await User.find_one(User.email == email) if email else None
        await self._verify_password(user, email, password, address, INVALID_CREDENTIALS)
        assert user is not None
        return user

    async def login(self, email: str, password: str, address: str | None = None) -> Session:
        user = await self.authenticate(email, password, address)
        return await self._start_session(user, family_id=uuid.uuid4().hex)

    async def change_password(
        self, user: User, current: str, new: str, address: str | None = None
    ) -> Session:
        """Set a new password; every session ends (refresh tokens revoked, access tokens
        invalidated through the token version) and the caller gets a fresh one."""
        await self._verify_password(user, user.email, current, address, WRONG_PASSWORD)
        validate_new_password(new, user.email)
        if new == current:
            raise BadUserInput("The new password must differ from the current one.", field="new")
        user.password_hash = await hash_password(new, self.settings.bcrypt_rounds)
        user.token_version += 1
        self.forget_user(user.id)
        await user.save()
        assert user.id is not None
        await self.logout_everywhere(user.id, bump_version=False)
        return await self._start_session(user, family_id=uuid.uuid4().hex)

    async def update_profile(
        self,
        user: User,
        display_name: str | None = None,
        favourite_genres: list[str] | None = None,
        favourite_moods: list[Mood] | None = None,
        preferred_languages: list[str] | None = None,
        country: str | None = None,
    ) -> User:
        """Change what is given, leave what is not; validated like registration.

        One save at the end: a bad value anywhere stores nothing.
        """
        if display_name is not None:
            user.display_name = validate_display_name(display_name)
        if favourite_genres is not None:
            user.favourite_genres = validate_genres(favourite_genres)
        if favourite_moods is not None:
            user.favourite_moods = [m.value for m in dict.fromkeys(favourite_moods)]
        languages = (
            locales.preferred_languages(preferred_languages)
            if preferred_languages is not None
            else user.preferred_languages
        )
        home = locales.optional_country(country) if country is not None else user.country
        user.preferred_languages, user.country = languages, home
        self.forget_user(user.id)
        await user.save()
        return user

    async def delete_account(self, user: User, password: str, address: str | None = None) -> None:
        """The caller deletes themself; the password proves it is them, not a stolen token."""
        await self._verify_password(user, user.email, password, address, WRONG_PASSWORD)
        await self.delete_user(user)

    async def _verify_password(
        self, user: User | None, email: str, password: str, address: str | None, message: str
    ) -> None:
        keys = await self.throttle.keys(email, address)
        await self.throttle.acquire(keys)
        password_hash = user.password_hash if user else dummy_hash(self.settings.bcrypt_rounds)
        try:
            password_ok = await check_password(password, password_hash)  # always: same time
        except BaseException:  # cancelled (client gone) or worse: the attempt is not in flight
            await asyncio.shield(self.throttle.release(keys))
            raise
        if user is None or not password_ok:
            await self.throttle.record_failure(keys)
            raise Unauthenticated(message)
        await self.throttle.record_success(keys)
        await self.throttle.remember_address(email, address)
        if needs_rehash(user.password_hash, self.settings.bcrypt_rounds):
            user.password_hash = await hash_password(password, self.settings.bcrypt_rounds)
            await user.save()

    async def refresh(self, refresh_token: str) -> Session:
        """Rotate: the presented token is spent, a new one of the same family is issued.

        A spent token presented again means it was stolen (or replayed): the family dies.
        """
        now = datetime.now(UTC)
        token_hash = hash_refresh_token(refresh_token)
        # Atomic claim: of two concurrent refreshes with one token, only one matches. (Not
        # find_one_and_update: on the embedded server it scans the whole collection.)
        tokens = RefreshToken.get_pymongo_collection()
        claim = await tokens.update_one(
            {"token_hash": token_hash, "rotated_at": None, "revoked_at": None},
            {"$set": {"rotated_at": now}},
        )
        stored = await tokens.find_one({"token_hash": token_hash}) if claim.modified_count else None
        if stored is None:
            spent = await RefreshToken.find_one(RefreshToken.token_hash == token_hash)
            if spent is not None and spent.revoked_at is None:
                await self._end_session(spent.user_id, spent.family_id, now)
            raise Unauthenticated("Invalid refresh token; log in again.")
        token = RefreshToken.model_validate(stored)
        if _aware(token.expires_at) <= now:
            raise Unauthenticated("Refresh token expired; log in again.")
        if await self._session_started(token.family_id) <= now - timedelta(
            days=self.settings.session_max_days
        ):
            # Rotation slides the expiry; this is the absolute limit (RFC 9700 4.14.2).
            await self._end_session(token.user_id, token.family_id, now)
            raise Unauthenticated("This session is too old; log in again.")
        user = await User.get(token.user_id)
        if user is None or token.family_id in user.ended_sessions:
            # Ended by a concurrent reuse: the token it may have issued dies with it.
            raise Unauthenticated("Invalid refresh token; log in again.")
        return await self._start_session(user, family_id=token.family_id)

    async def logout(self, refresh_token: str) -> bool:
        token = await RefreshToken.find_one(
            RefreshToken.token_hash == hash_refresh_token(refresh_token)
        )
        if token is None:
            return False
        await self._end_session(token.user_id, token.family_id, datetime.now(UTC))
        return True

    async def sessions(self, user_id: PydanticObjectId) -> list[ActiveSession]:
        """The caller's live logins, newest first: each family's current (unrotated) token."""
        now = datetime.now(UTC)
        tokens = await RefreshToken.find(
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at == None,  # noqa: E711
            RefreshToken.rotated_at == None,  # noqa: E711
        ).to_list()
        user = await User.get(user_id)
        ended = set(user.ended_sessions) if user else set()
        live = [t for t in tokens if _aware(t.expires_at) > now and t.family_id not in ended]
        live.sort(key=lambda t: _aware(t.created_at), reverse=True)
        return [
            ActiveSession(t.family_id, _aware(t.created_at), _aware(t.expires_at)) for t in live
        ]

    async def revoke_session(self, user_id: PydanticObjectId, session_id: str) -> None:
        """End one of the caller's logins; someone else's id is NOT_FOUND, like a made-up one."""
        owned = await RefreshToken.find_one(
            RefreshToken.family_id == session_id, RefreshToken.user_id == user_id
        )
        if owned is None:
            raise NotFound(f"No session with id '{session_id}'.")
        await self._end_session(user_id, session_id, datetime.now(UTC))

    async def logout_everywhere(self, user_id: PydanticObjectId, bump_version: bool = True) -> int:
        """Revoke every refresh token; with `bump_version`, live access tokens die too."""
        if bump_version:
            self.forget_user(user_id)
            await User.find_one(User.id == user_id).inc({User.token_version: 1})
        result = await RefreshToken.find(
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at == None,  # noqa: E711
        ).update_many({"$set": {"revoked_at": datetime.now(UTC)}})
        return int(getattr(result, "modified_count", 0) or 0)

    async def delete_user(self, user: User) -> None:
        """The one place an account is deleted: everything that belongs to it goes with it.

        The account goes first, so a still-valid access token stops working at once. Likes
        are undone one by one so the songs' like counters stay right, and so are plays; what
        the account added to shared lists (trending) is taken back by the `deleted` hooks.
        """
        assert user.id is not None
        self.forget_user(user.id)
        await user.delete()
        await RefreshToken.find(RefreshToken.user_id == user.id).delete()
        plays: Counter[PydanticObjectId] = Counter()
        async for doc in Interaction.get_pymongo_collection().find(
            {"user_id": user.id, "kind": InteractionKind.PLAY.value}, {"song_id": 1}
        ):
            plays[doc["song_id"]] += 1
        for song_id, count in plays.items():
            await Song.get_pymongo_collection().update_one(
                {"_id": song_id}, {"$inc": {"play_count": -count}}
            )
        await Interaction.find(Interaction.user_id == user.id).delete()
        async for liked in Like.find(Like.user_id == user.id):
            await likes.unlike(user.id, liked.song_id)
        await Playlist.find(Playlist.owner_id == user.id).delete()
        for forget in self.deleted:
            forget(str(user.id))

    async def _session_started(self, family_id: str) -> datetime:
        """When the login behind a token family happened: its first token (family index)."""
        first = (
            await RefreshToken.find(RefreshToken.family_id == family_id)
            .sort("created_at")
            .first_or_none()
        )
        return _aware(first.created_at) if first else datetime.now(UTC)

    async def _end_session(self, user_id: PydanticObjectId, family_id: str, now: datetime) -> None:
        """End one login: its access tokens (through the account's ended sessions, one atomic
        update that `current_user` and `refresh` read) and its refresh tokens.

        Marking the account first closes the refresh race: a token issued to a concurrent
        winner after this point, or before it, belongs to an ended session either way.
        """
        await User.get_pymongo_collection().update_one(
            {"_id": user_id},
            {"$push": {"ended_sessions": {"$each": [family_id], "$slice": -MAX_ENDED_SESSIONS}}},
        )
        self.forget_user(user_id)  # the cached copy still lists the session as live
        await self._revoke_family(family_id, now)

    async def _revoke_family(self, family_id: str, now: datetime) -> None:
        await RefreshToken.find(
            RefreshToken.family_id == family_id,
            RefreshToken.revoked_at == None,  # noqa: E711
        ).update_many({"$set": {"revoked_at": now}})

    async def _start_session(self, user: User, family_id: str) -> Session:
        assert user.id is not None
        # The user's expired tokens go: the collection holds live sessions, not history.
        await RefreshToken.get_pymongo_collection().delete_many(
            {"user_id": user.id, "expires_at": {"$lte": datetime.now(UTC)}}
        )
        refresh_token = new_refresh_token()
        await RefreshToken(
            token_hash=hash_refresh_token(refresh_token),
            user_id=user.id,
            family_id=family_id,
            expires_at=datetime.now(UTC) + timedelta(days=self.settings.refresh_token_days),
        ).insert()
        access_token = issue_access_token(
            self.settings, str(user.id), user.role.value, user.token_version, session_id=family_id
        )
        return Session(access_token=access_token, refresh_token=refresh_token, user=user)


async def users_by_ids(ids: Sequence[PydanticObjectId]) -> dict[PydanticObjectId, User]:
    if not ids:
        return {}
    found = await User.find({"_id": {"$in": list(set(ids))}}).to_list()
    return {user.id: user for user in found if user.id is not None}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
