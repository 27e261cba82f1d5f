"""Favourites. Liking is idempotent and the song's like counter moves only on a real change."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from madhur_gql.documents import Like
from madhur_gql.services.catalog.counters import increment
from madhur_gql.services.paging import Page, fetch_page


async def _bump(song_id: PydanticObjectId, delta: int) -> int:
    return await increment(song_id, "like_count", delta) or 0


async def like(user_id: PydanticObjectId, song_id: PydanticObjectId) -> int | None:
    """The song's new like count, or None when the user already liked it."""
    try:
        await Like(user_id=user_id, song_id=song_id).insert()
    except DuplicateKeyError:
        return None
    return await _bump(song_id, 1)


async def unlike(user_id: PydanticObjectId, song_id: PydanticObjectId) -> int | None:
    """The song's new like count, or None when there was no like to remove."""
    result = await Like.get_pymongo_collection().delete_one(
        {"user_id": user_id, "song_id": song_id}
    )
    if result.deleted_count == 0:
        return None
    return await _bump(song_id, -1)


async def liked_songs_page(user_id: PydanticObjectId, *, offset: int, limit: int) -> Page[Like]:
    return await fetch_page(Like.find(Like.user_id == user_id), offset=offset, limit=limit)


class LikeLookups:
    """ "Which of these songs does the caller like?" for concurrent requests, one query a round.

    Per-user data is read from the database, so a caller sees their own likes on every worker
    the moment they are acknowledged. Requests that arrive while a round's query is in flight
    wait for the next round, which asks for all of them at once (at most MAX_PER_ROUND pages,
    so the `$in` stays bounded): the query always starts after the request arrived, and under
    load one query answers many pages.
    """

    MAX_PER_ROUND = 10

    def __init__(self) -> None:
        self._waiting: list[
            tuple[PydanticObjectId, set[PydanticObjectId], asyncio.Future[set[PydanticObjectId]]]
        ] = []
        self._running = False
        self.rounds = 0

    async def liked(
        self, user_id: PydanticObjectId, song_ids: Sequence[PydanticObjectId]
    ) -> set[PydanticObjectId]:
        if not song_ids:
            return set()
        done: asyncio.Future[set[PydanticObjectId]] = asyncio.get_running_loop().create_future()
        self._waiting.append((user_id, set(song_ids), done))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._rounds())
        return await done

    async def _rounds(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.MAX_PER_ROUND]
                del self._waiting[: self.MAX_PER_ROUND]
                self.rounds += 1
                try:
                    pairs = await self._query(batch)
                except Exception as error:
                    for _, _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
                for user_id, songs, done in batch:
                    if not done.done():
                        done.set_result({s for s in songs if (user_id, s) in pairs})
        finally:
            self._running = False

    @staticmethod
    async def _query(
        batch: list[tuple[PydanticObjectId, set[PydanticObjectId], Any]],
    ) -> set[tuple[PydanticObjectId, PydanticObjectId]]:
        users = list({user_id for user_id, _, _ in batch})
        songs = list(set().union(*(wanted for _, wanted, _ in batch)))
        query = {"user_id": {"$in": users}, "song_id": {"$in": songs}}
        cursor = Like.get_pymongo_collection().find(query, {"user_id": 1, "song_id": 1})
        return {
            (PydanticObjectId(doc["user_id"]), PydanticObjectId(doc["song_id"]))
            async for doc in cursor
        }
