"""Follows MongoDB change streams so that every API process sees every write.

Imports from the CLI, admin edits and other API instances change the database; this feed
hands those changes to the one door into this process's memory (`services/live.py`), which
also receives the process's own writes and recognises their echoes. Changes are applied in
batches, so a bulk import does not re-index song by song.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from typing import Any

import structlog
from beanie import PydanticObjectId
from pymongo.errors import OperationFailure, PyMongoError

from madhur_gql.documents import Interaction, Song, User
from madhur_gql.services.live import LiveState

log = structlog.get_logger(__name__)

COUNTER_FIELDS = {"like_count", "play_count", "updated_at"}
BATCH_LIMIT = 1000
# A getMore waits at most this long for a change. The accounts' cache trusts the users stream
# while its last completed getMore began within 0.5 s, which spans two polls and the loop's
# lag: at 200 ms a quiet stream under load was "stale" at the end of every other poll.
POLL_MS = 100
# Under a steady stream of changes every getMore brings one or two and the stream never runs
# dry. So a batch is applied as soon as what the last getMore brought is used up, and then,
# while changes keep coming, the feed waits this long before asking again: the changes of
# that time come in one getMore. Without the pause a process with three streams sent about
# 300 getMores a second under bench/load.py (a tenth of its CPU, and the database's); with
# it at most 20 per stream, and a change still reaches memory within about 60 ms.
GATHER_SECONDS = 0.05
# A batch this large means a backlog (an import, a catch-up): no pause while it drains.
BACKLOG = 100
RETRY_SECONDS = (0.5, 1, 2, 5)


async def songs_position_now() -> Mapping[str, Any]:
    """The songs stream's position now: taken before the songs are read, the feed follows
    from it, so no change made while they were read is missed."""
    collection = Song.get_pymongo_collection()
    async with await collection.watch(max_await_time_ms=POLL_MS) as stream:
        await stream.try_next()
        token = stream.resume_token
    if token is None:
        raise RuntimeError("the songs change stream gave no position")
    return token


class ChangeFeed:
    def __init__(self, live: LiveState) -> None:
        self.live = live
        self._tasks: list[asyncio.Task[None]] = []
        # Where the songs stream stands: every change up to it is in memory (None: not yet).
        self.songs_position: Mapping[str, Any] | None = None
        # Per followed document class, when (monotonic) the getMore started whose changes, and
        # every earlier one, are now in memory: a write acknowledged before then is applied.
        self._caught_up: dict[type, float] = {}

    def caught_up_at(self, model: type) -> float:
        """When the model's stream last held every change made before it asked (-inf while
        it is down or has not asked yet)."""
        return self._caught_up.get(model, -math.inf)

    async def catch_up_songs(self, after: Mapping[str, Any]) -> bool:
        """Apply every song change since `after`, until none is left; False when the stream
        cannot resume there (the oplog no longer holds it): memory must be read afresh."""
        collection = Song.get_pymongo_collection()
        try:
            async with await collection.watch(
                resume_after=after, max_await_time_ms=POLL_MS
            ) as stream:
                batch: list[Mapping[str, Any]] = []
                while (change := await stream.try_next()) is not None:
                    batch.append(change)
                    if len(batch) >= BATCH_LIMIT:
                        await self._apply_songs(batch)
                        batch = []
                if batch:
                    await self._apply_songs(batch)
                self.songs_position = stream.resume_token
        except OperationFailure as error:
            log.info("songs change stream cannot resume there", error=str(error))
            return False
        return True

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(
                self._follow(Song, self._apply_songs, self.songs_position), name="feed-songs"
            ),
            asyncio.create_task(
                self._follow(Interaction, self._apply_interactions), name="feed-interactions"
            ),
            asyncio.create_task(self._follow(User, self._apply_users), name="feed-users"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _follow(
        self,
        model: type[Song] | type[Interaction] | type[User],
        apply: Any,
        resume_token: Mapping[str, Any] | None = None,
    ) -> None:
        collection = model.get_pymongo_collection()
        failures = 0
        while True:
            self._caught_up.pop(model, None)  # (re)connecting: nothing is known to be current
            try:
                async with await collection.watch(
                    resume_after=resume_token, max_await_time_ms=POLL_MS
                ) as stream:
                    failures = 0
                    batch: list[Mapping[str, Any]] = []
                    asked_at = -math.inf
                    while stream.alive:
                        buffered = _buffered(stream)
                        if buffered == 0:  # this try_next asks the server
                            asked_at = time.monotonic()
                        change = await stream.try_next()
                        if change is not None:
                            batch.append(change)
                        drained = change is None or not _buffered(stream)
                        if batch and (drained or len(batch) >= BATCH_LIMIT):
                            await apply(batch)
                            resume_token = stream.resume_token
                            busy = change is not None and len(batch) < BACKLOG
                            batch = []
                            if model is Song:
                                self.songs_position = resume_token
                            if drained and buffered is not None:
                                self._caught_up[model] = asked_at
                            if busy:
                                await asyncio.sleep(GATHER_SECONDS)
                        elif not batch:
                            if model is Song:
                                self.songs_position = stream.resume_token
                            if buffered is not None:
                                self._caught_up[model] = asked_at
                            # The embedded server ends a getMore early whenever anything is
                            # written anywhere: a quiet stream (users) asked 30 times a second.
                            await asyncio.sleep(asked_at + POLL_MS / 1000 - time.monotonic())
            except asyncio.CancelledError:
                raise
            except PyMongoError as error:
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("change stream interrupted", error=str(error), retry_in=delay)
                await asyncio.sleep(delay)

    async def _apply_songs(self, changes: list[Mapping[str, Any]]) -> None:
        changed: set[PydanticObjectId] = set()
        removed: list[PydanticObjectId] = []
        for change in changes:
            song_id = PydanticObjectId(change["documentKey"]["_id"])
            operation = change["operationType"]
            if operation == "delete":
                removed.append(song_id)
                changed.discard(song_id)
            elif operation == "insert" and self.live.holds_song(song_id) and not removed:
                continue  # our own insert (an import, a new song), applied when acknowledged
            elif operation == "update" and _only_counters(change):
                fields = change["updateDescription"]["updatedFields"]
                self.live.counters(
                    song_id, likes=fields.get("like_count"), plays=fields.get("play_count")
                )
            else:
                changed.add(song_id)
        if removed:
            self.live.songs_removed(removed)
        if changed:
            ids = list(changed)
            docs = []
            for start in range(0, len(ids), BATCH_LIMIT):  # bounded: at most BATCH_LIMIT ids
                query = {"_id": {"$in": ids[start : start + BATCH_LIMIT]}}
                docs.extend([doc async for doc in Song.get_pymongo_collection().find(query)])
            self.live.songs_changed(docs)

    async def _apply_interactions(self, changes: list[Mapping[str, Any]]) -> None:
        for change in changes:
            if change["operationType"] == "insert":
                self.live.interaction_document(change["fullDocument"])

    async def _apply_users(self, changes: list[Mapping[str, Any]]) -> None:
        for change in changes:
            key = change.get("documentKey") or {}
            if "_id" not in key:
                continue
            if change.get("operationType") == "delete":
                self.live.account_deleted(key["_id"])  # deleted through another process
            else:
                self.live.user_changed(key["_id"])


def _buffered(stream: Any) -> int | None:
    """Changes the last getMore brought that are not yet taken: when none are, the next
    `try_next` asks the server. pymongo keeps them on the stream's cursor and has no public
    way to ask; None if that ever changes: every change then counts as the last of its
    getMore (still correct, only paced change by change) and the feed never claims to be
    caught up (the accounts' cache keeps its short bound)."""
    data = getattr(getattr(stream, "_cursor", None), "_data", None)
    return None if data is None else len(data)


def _only_counters(change: Mapping[str, Any]) -> bool:
    description = change.get("updateDescription") or {}
    updated = set(description.get("updatedFields") or {})
    return bool(updated) and updated <= COUNTER_FIELDS and not description.get("removedFields")
