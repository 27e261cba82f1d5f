"""Follows MongoDB change streams so that every API process sees every write.

Imports from the CLI, admin edits and other API instances change the database; this feed
applies those changes to this process's catalog index and recommender. A process's own
writes come back through the stream too: they are recognised and not applied twice.
Changes are applied in batches, so a bulk import does not re-index song by song.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import structlog
from beanie import PydanticObjectId
from pymongo.errors import PyMongoError

from madhur_gql.documents import Interaction, InteractionKind, Song
from madhur_gql.services.catalog import SNAPSHOT_FIELDS
from madhur_gql.services.catalog_index import Catalog
from madhur_gql.services.recommendations import RecommendationService

log = structlog.get_logger(__name__)

COUNTER_FIELDS = {"like_count", "play_count", "updated_at"}
BATCH_LIMIT = 1000
POLL_MS = 200
RETRY_SECONDS = (0.5, 1, 2, 5)


class ChangeFeed:
    def __init__(self, catalog: Catalog, recommendations: RecommendationService) -> None:
        self.catalog = catalog
        self.recommendations = recommendations
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._follow(Song, self._apply_songs), name="feed-songs"),
            asyncio.create_task(
                self._follow(Interaction, self._apply_interactions), name="feed-interactions"
            ),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _follow(self, model: type[Song] | type[Interaction], apply: Any) -> None:
        collection = model.get_pymongo_collection()
        resume_token: Mapping[str, Any] | None = None
        failures = 0
        while True:
            try:
                async with await collection.watch(
                    resume_after=resume_token, max_await_time_ms=POLL_MS
                ) as stream:
                    failures = 0
                    batch: list[Mapping[str, Any]] = []
                    while stream.alive:
                        change = await stream.try_next()
                        if change is not None:
                            batch.append(change)
                        if batch and (change is None or len(batch) >= BATCH_LIMIT):
                            await apply(batch)
                            resume_token = stream.resume_token
                            batch = []
            except asyncio.CancelledError:
                raise
            except PyMongoError as error:
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("change stream interrupted", error=str(error), retry_in=delay)
                await asyncio.sleep(delay)

    async def _apply_songs(self, changes: list[Mapping[str, Any]]) -> None:
        index = self.catalog.index
        changed: set[PydanticObjectId] = set()
        removed: list[str] = []
        for change in changes:
            song_id = PydanticObjectId(change["documentKey"]["_id"])
            operation = change["operationType"]
            if operation == "delete":
                removed.append(str(song_id))
                changed.discard(song_id)
            elif operation == "update" and _only_counters(change):
                fields = change["updateDescription"]["updatedFields"]
                index.set_counters(
                    str(song_id), likes=fields.get("like_count"), plays=fields.get("play_count")
                )
            else:
                changed.add(song_id)
        if removed:
            for removed_id in removed:
                index.remove(removed_id)
            self.recommendations.remove_songs(removed)
        if changed:
            projection = dict.fromkeys(SNAPSHOT_FIELDS, 1)
            cursor = Song.get_pymongo_collection().find({"_id": {"$in": list(changed)}}, projection)
            docs = [doc async for doc in cursor]
            for doc in docs:
                index.upsert(doc)
            self.recommendations.upsert_songs(docs)

    async def _apply_interactions(self, changes: list[Mapping[str, Any]]) -> None:
        for change in changes:
            if change["operationType"] != "insert":
                continue
            interaction = Interaction.model_validate(change["fullDocument"])
            if (
                self.recommendations.record(interaction)
                and interaction.kind is InteractionKind.PLAY
            ):
                self.catalog.index.trending.add_play(
                    str(interaction.song_id), interaction.created_at
                )


def _only_counters(change: Mapping[str, Any]) -> bool:
    description = change.get("updateDescription") or {}
    updated = set(description.get("updatedFields") or {})
    return bool(updated) and updated <= COUNTER_FIELDS and not description.get("removedFields")
