"""Login throttling: a few free failures, then a lock that doubles with each further failure.

Guesses are counted per (account, address) first: five wrong passwords lock that pair, so a
stranger cannot lock the owner out. Per address (one client spraying many accounts) and per
account across all addresses (a botnet) the counts are larger; the account-wide count never
applies to an address that has logged in to the account before (a "known" address, as
OWASP's device cookies do it with cookies), so a flood of wrong passwords from elsewhere
locks out strangers, never the owner at home.

State lives in MongoDB (collection `login_throttle`), one document per key, addressed by
`_id` so every read and write is a point operation (no scans, even on the embedded server)
and shared by every API process. A document is
`{_id, failures, pending, locked_until, expires_at}`;
`expires_at` moves forward with each failure, and a TTL index (where the server has them)
clears old documents; stale ones are also ignored and replaced on the next failure.

Keys are hashed: the collection holds no email addresses.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from madhur_gql.config import Settings
from madhur_gql.documents import User
from madhur_gql.errors import TooManyRequests

log = structlog.get_logger(__name__)

COLLECTION = "login_throttle"


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    id: str
    max_failures: int


def _digest(kind: str, value: str) -> str:
    return f"{kind}:" + hashlib.sha256(value.encode(errors="replace")).hexdigest()[:32]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._indexed = False

    async def keys(self, email: str, address: str | None) -> list[ThrottleKey]:
        """Per (account, address) first, then per address, then per account unless the
        address is known for it. The first key is the one a success clears."""
        settings = self.settings
        pair = ThrottleKey(
            _digest("pair", f"{email}\x00{address or ''}"), settings.login_max_failures_per_email
        )
        keys = [pair]
        if address:
            keys.append(
                ThrottleKey(_digest("addr", address), settings.login_max_failures_per_address)
            )
        if not await self._known(email, address):
            keys.append(
                ThrottleKey(_digest("email", email), settings.login_max_failures_per_account)
            )
        return keys

    async def _known(self, email: str, address: str | None) -> bool:
        if not address:
            return False
        doc = await self._collection().find_one({"_id": _digest("known", f"{email}\x00{address}")})
        expires = doc.get("expires_at") if doc else None
        return expires is not None and _aware(expires) > datetime.now(UTC)

    def signup_keys(self, address: str | None) -> list[ThrottleKey]:
        """Per client address, for registrations that succeed: accounts are free, so a farm
        of them (to push shared lists) is limited at the source."""
        if not address:
            return []
        return [ThrottleKey(_digest("signup", address), self.settings.register_max_per_address)]

    def registration_keys(self, address: str | None) -> list[ThrottleKey]:
        """Per client address, for registrations refused because the email is taken: each
        one tells the caller that an account exists, so probing is throttled like guessing."""
        if not address:
            return []
        return [ThrottleKey(_digest("register", address), self.settings.register_max_conflicts)]

    def _collection(self) -> AsyncCollection[dict[str, Any]]:
        database = User.get_pymongo_collection().database
        return database[COLLECTION]

    async def _ensure_index(self) -> None:
        if self._indexed:
            return
        self._indexed = True
        try:
            await self._collection().create_index("expires_at", expireAfterSeconds=0)
        except OperationFailure as error:  # a server without TTL indexes: expiry is still read
            log.info("no TTL index for login throttle", error=str(error))

    async def check(self, keys: list[ThrottleKey]) -> None:
        """Raise TOO_MANY_REQUESTS (with `retryAfter` seconds) while any key is locked."""
        now = datetime.now(UTC)
        wait = 0.0
        for key in keys:
            doc = await self._collection().find_one({"_id": key.id})
            locked_until = doc.get("locked_until") if doc else None
            if locked_until is not None and _aware(locked_until) > now:
                wait = max(wait, (_aware(locked_until) - now).total_seconds())
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise TooManyRequests(
                f"Too many failed attempts; try again in {retry_after} seconds.",
                retryAfter=retry_after,
            )

    async def acquire(self, keys: list[ThrottleKey]) -> None:
        """Start an attempt: refuse it while locked, and count it as in flight (`pending`).

        Counting before the password is checked closes a race: without it, fifty parallel
        requests all pass the lock check before the first failure is recorded, and all fifty
        guesses are tried. An attempt may start while fewer than the free attempts are used
        up (counting those in flight), or, past them, when none is in flight: then each
        failure re-locks, for twice as long.
        """
        await self.check(keys)
        await self._ensure_index()
        collection = self._collection()
        now = datetime.now(UTC)
        window = timedelta(seconds=self.settings.login_failure_window_seconds)
        started: list[ThrottleKey] = []
        for key in keys:
            # A stale window starts again from zero; deleting only if stale keeps this atomic.
            await collection.delete_one({"_id": key.id, "expires_at": {"$lte": now}})
            doc = await collection.find_one_and_update(
                {"_id": key.id},
                {
                    "$inc": {"pending": 1},
                    "$set": {"expires_at": now + window},
                    "$setOnInsert": {"failures": 0},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            started.append(key)
            failures = int(doc.get("failures", 0)) if doc else 0
            before = int(doc.get("pending", 1)) - 1 if doc else 0
            if before > 0 and failures + before >= key.max_failures:
                for done in started:
                    await collection.update_one({"_id": done.id}, {"$inc": {"pending": -1}})
                raise TooManyRequests(
                    "Too many attempts at once; try again shortly.",
                    retryAfter=self.settings.login_lock_seconds,
                )

    async def release(self, keys: list[ThrottleKey]) -> None:
        """End an attempt that neither failed nor succeeded (it was interrupted)."""
        for key in keys:
            await self._collection().update_one({"_id": key.id}, {"$inc": {"pending": -1}})

    async def record_failure(self, keys: list[ThrottleKey], in_flight: bool = True) -> None:
        """End a failed attempt ($inc, atomic); past the free ones, lock for a doubling time.

        `in_flight=False` counts a failure that `acquire` did not start (a registration).
        """
        collection = self._collection()
        now = datetime.now(UTC)
        window = timedelta(seconds=self.settings.login_failure_window_seconds)
        for key in keys:
            doc = await collection.find_one_and_update(
                {"_id": key.id},
                {
                    "$inc": {"failures": 1, "pending": -1 if in_flight else 0},
                    "$set": {"expires_at": now + window},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            failures = int(doc.get("failures", 1)) if doc else 1
            if failures >= key.max_failures:
                lock = min(
                    self.settings.login_lock_seconds * 2 ** min(failures - key.max_failures, 20),
                    self.settings.login_lock_max_seconds,
                )
                until = now + timedelta(seconds=lock)
                await collection.update_one(
                    {"_id": key.id},
                    {"$set": {"locked_until": until, "expires_at": max(until, now + window)}},
                )

    async def record_success(self, keys: list[ThrottleKey]) -> None:
        """Forget this (account, address)'s failures; the address and the account keep their
        counts (one good login per few guesses must not let a sprayer go on), less this
        attempt."""
        if not keys:
            return
        collection = self._collection()
        await collection.delete_one({"_id": keys[0].id})
        for key in keys[1:]:
            await collection.update_one({"_id": key.id}, {"$inc": {"pending": -1}})

    async def remember_address(self, email: str, address: str | None) -> None:
        """After a successful login: this address is the owner's for a while (see `keys`)."""
        if not address:
            return
        days = timedelta(days=self.settings.login_known_address_days)
        await self._ensure_index()
        await self._collection().update_one(
            {"_id": _digest("known", f"{email}\x00{address}")},
            {"$set": {"expires_at": datetime.now(UTC) + days}},
            upsert=True,
        )
