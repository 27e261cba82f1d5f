"""Favourites. Liking is idempotent and the song's like counter moves only on a real change."""

from __future__ import annotations

from collections.abc import Sequence

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from madhur_gql.documents import Like
from madhur_gql.services.counters import increment
from madhur_gql.services.pagination import Page, fetch_page


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


async def liked_song_ids(
    user_id: PydanticObjectId, song_ids: Sequence[PydanticObjectId]
) -> set[PydanticObjectId]:
    """Which of `song_ids` the user likes: one indexed query for a whole page of songs."""
    if not song_ids:
        return set()
    query = {"user_id": user_id, "song_id": {"$in": list(set(song_ids))}}
    cursor = Like.get_pymongo_collection().find(query, {"song_id": 1})
    return {PydanticObjectId(doc["song_id"]) async for doc in cursor}


async def liked_songs_page(
    user_id: PydanticObjectId, *, first: int, after: str | None
) -> Page[Like]:
    return await fetch_page(Like.find(Like.user_id == user_id), first=first, after=after)
