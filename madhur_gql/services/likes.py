"""Favourites. Liking is idempotent and the song's like counter moves only on a real change."""

from __future__ import annotations

from collections.abc import Sequence

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from madhur_gql.documents import Like, Song
from madhur_gql.services.pagination import check_page_size, decode_cursor


async def _bump(song_id: PydanticObjectId, delta: int) -> int:
    updated = await Song.get_pymongo_collection().find_one_and_update(
        {"_id": song_id},
        {"$inc": {"like_count": delta}},
        projection={"like_count": 1},
        return_document=ReturnDocument.AFTER,
    )
    return int(updated["like_count"]) if updated else 0


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
) -> tuple[list[Like], int, int]:
    check_page_size(first)
    offset = decode_cursor(after)
    total = await Like.find(Like.user_id == user_id).count()
    likes = (
        await Like.find(Like.user_id == user_id)
        .sort("-created_at", "-_id")
        .skip(offset)
        .limit(first)
        .to_list()
    )
    return likes, offset, total
