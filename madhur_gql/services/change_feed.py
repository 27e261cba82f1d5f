"""Follows one MongoDB change stream so that every API process sees every write.

Imports from the CLI, admin edits and other API instances change the database; this feed
hands those changes to the one door into this process's memory (`services/live.py`), which
also receives the process's own writes and recognises their echoes. Changes are applied in
batches, so a bulk import does not re-index song by song.

One stream on the database, filtered to the followed collections, not one per collection:
on the embedded server every open stream rescans the oplog after each commit, and three
streams per worker made a batch of writes 2-4x slower under load (bench/load.py). Changes of
different collections keep their order: consecutive ones of a collection are applied as one
batch, in stream order.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog
from beanie import PydanticObjectId
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from madhur_gql.documents import Interaction, Song, User
from madhur_gql.services.live import LiveState

log = structlog.get_logger(__name__)

COUNTER_FIELDS = {"like_count", "play_count", "updated_at"}
BATCH_LIMIT = 1000
POLL_MS = 200
RETRY_SECONDS = (0.5, 1, 2, 5)

Changes = Sequence[Mapping[str, Any]]


def _database() -> AsyncDatabase[Any]:
    return Song.get_pymongo_collection().database


def _only(*models: type[Song] | type[Interaction] | type[User]) -> list[dict[str, Any]]:
    """A pipeline that keeps the changes of these models' collections."""
    names = [model.get_pymongo_collection().name for model in models]
    return [{"$match": {"ns.coll": {"$in": names}}}]


async def songs_position_now() -> Mapping[str, Any]:
    """The feed's position now: taken before the songs are read, the feed follows from it,
    so no change made while they were read is missed."""
    async with await _database().watch(
        _only(Song, Interaction, User), max_await_time_ms=POLL_MS
    ) as stream:
        await stream.try_next()
        token = stream.resume_token
    if token is None:
        raise RuntimeError("the change stream gave no position")
    return token


class ChangeFeed:
    def __init__(self, live: LiveState) -> None:
        self.live = live
        self._task: asyncio.Task[None] | None = None
        # Where the stream stands: every song change up to it is in memory (None: not yet).
        self.songs_position: Mapping[str, Any] | None = None
        self._appliers: dict[str, Callable[[Changes], Awaitable[None]]] = {
            Song.get_pymongo_collection().name: self._apply_songs,
            Interaction.get_pymongo_collection().name: self._apply_interactions,
            User.get_pymongo_collection().name: self._apply_users,
        }

    async def catch_up_songs(self, after: Mapping[str, Any]) -> bool:
        """Apply every song change since `after`, until none is left; False when the stream
        cannot resume there (the oplog no longer holds it): memory must be read afresh."""
        try:
            async with await _database().watch(
                _only(Song), resume_after=after, max_await_time_ms=POLL_MS
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
        self._task = asyncio.create_task(self._follow(self.songs_position), name="change-feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _follow(self, resume_token: Mapping[str, Any] | None) -> None:
        pipeline = _only(Song, Interaction, User)
        failures = 0
        while True:
            try:
                async with await _database().watch(
                    pipeline, resume_after=resume_token, max_await_time_ms=POLL_MS
                ) as stream:
                    failures = 0
                    batch: list[Mapping[str, Any]] = []
                    while stream.alive:
                        change = await stream.try_next()
                        if change is not None:
                            batch.append(change)
                        if batch and (change is None or len(batch) >= BATCH_LIMIT):
                            await self._apply(batch)
                            batch = []
                        if not batch:
                            resume_token = stream.resume_token
                            self.songs_position = resume_token
            except asyncio.CancelledError:
                raise
            except PyMongoError as error:
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("change stream interrupted", error=str(error), retry_in=delay)
                await asyncio.sleep(delay)

    async def _apply(self, changes: Changes) -> None:
        for collection, group in itertools.groupby(changes, key=lambda c: c["ns"]["coll"]):
            apply = self._appliers.get(collection)
            if apply is not None:
                await apply(list(group))

    async def _apply_songs(self, changes: Changes) -> None:
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

    async def _apply_interactions(self, changes: Changes) -> None:
        for change in changes:
            if change["operationType"] == "insert":
                self.live.interaction_document(change["fullDocument"])

    async def _apply_users(self, changes: Changes) -> None:
        for change in changes:
            key = change.get("documentKey") or {}
            if "_id" not in key:
                continue
            if change.get("operationType") == "delete":
                self.live.account_deleted(key["_id"])  # deleted through another process
            else:
                self.live.user_changed(key["_id"])


def _only_counters(change: Mapping[str, Any]) -> bool:
    description = change.get("updateDescription") or {}
    updated = set(description.get("updatedFields") or {})
    return bool(updated) and updated <= COUNTER_FIELDS and not description.get("removedFields")
