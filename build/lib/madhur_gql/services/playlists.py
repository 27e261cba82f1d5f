"""Playlists: owned by one listener, private unless made public.

Another listener's private playlist answers NOT_FOUND, exactly like a missing one, so ids
reveal nothing. Adds and removes are single atomic array updates; a reorder is a
read-modify-write guarded by the playlist's version.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from madhur_gql.documents import Playlist, Song
from madhur_gql.documents.common import utcnow
from madhur_gql.errors import BadUserInput, Conflict, NotFound
from madhur_gql.services.ids import parse_object_id
from madhur_gql.services.names import clean_name
from madhur_gql.services.pagination import Page, fetch_page

MAX_NAME_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 1000
MAX_SONGS = 1000
MAX_SONGS_PER_CALL = 100
MAX_PLAYLISTS_PER_USER = 500
MAX_EDIT_KEY = 100
EDIT_KEYS_KEPT = 100  # a retry comes within seconds; a hundred edits cover it


def validate_name(name: str) -> str:
    return clean_name(name, what="Playlist name", max_length=MAX_NAME_LENGTH)


def validate_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise BadUserInput(
            f"Description is at most {MAX_DESCRIPTION_LENGTH} characters.", field="description"
        )
    return description.strip()


async def visible_playlist(playlist_id: str, viewer_id: PydanticObjectId | None) -> Playlist:
    playlist = await Playlist.get(parse_object_id(playlist_id))
    if playlist is None or (not playlist.public and playlist.owner_id != viewer_id):
        raise NotFound(f"No playlist with id '{playlist_id}'.")
    return playlist


async def owned_playlist(playlist_id: str, owner_id: PydanticObjectId) -> Playlist:
    playlist = await Playlist.get(parse_object_id(playlist_id))
    if playlist is None or playlist.owner_id != owner_id:
        raise NotFound(f"No playlist with id '{playlist_id}'.")
    return playlist


async def create_playlist(
    owner_id: PydanticObjectId, name: str, *, public: bool, description: str = ""
) -> Playlist:
    if await Playlist.find(Playlist.owner_id == owner_id).count() >= MAX_PLAYLISTS_PER_USER:
        raise BadUserInput(f"At most {MAX_PLAYLISTS_PER_USER} playlists per listener.")
    playlist = Playlist(
        owner_id=owner_id,
        name=validate_name(name),
        public=public,
        description=validate_description(description),
    )
    return await playlist.insert()


async def update_playlist(
    playlist_id: str,
    owner_id: PydanticObjectId,
    *,
    name: str | None = None,
    public: bool | None = None,
    description: str | None = None,
) -> Playlist:
    playlist = await owned_playlist(playlist_id, owner_id)
    changes: dict[str, object] = {"updated_at": utcnow()}
    if name is not None:
        changes["name"] = validate_name(name)
    if public is not None:
        changes["public"] = public
    if description is not None:
        changes["description"] = validate_description(description)
    await playlist.set(changes)
    return playlist


async def delete_playlist(playlist_id: str, owner_id: PydanticObjectId) -> None:
    playlist = await owned_playlist(playlist_id, owner_id)
    await playlist.delete()


async def _existing_song_ids(song_ids: list[str]) -> list[PydanticObjectId]:
    if not song_ids:
        raise BadUserInput("Give at least one song.", field="songIds")
    if len(song_ids) > MAX_SONGS_PER_CALL:
        raise BadUserInput(f"At most {MAX_SONGS_PER_CALL} songs per call.", field="songIds")
    parsed = [parse_object_id(s, field="songIds") for s in song_ids]
    found = {
        PydanticObjectId(doc["_id"])
        async for doc in Song.get_pymongo_collection().find(
            {"_id": {"$in": list(set(parsed))}}, {"_id": 1}
        )
    }
    missing = [str(s) for s in parsed if s not in found]
    if missing:
        raise NotFound(f"No song with id '{missing[0]}'.", field="songIds")
    return parsed


async def add_songs(
    playlist_id: str,
    owner_id: PydanticObjectId,
    song_ids: list[str],
    position: int | None,
    idempotency_key: str | None = None,
) -> Playlist:
    """Insert songs; with an idempotency key, a retry of an add that was applied changes nothing."""
    playlist = await owned_playlist(playlist_id, owner_id)
    new_ids = await _existing_song_ids(song_ids)
    if position is not None and position < 0:
        raise BadUserInput("Position must be 0 or more.", field="position")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_EDIT_KEY:
        raise BadUserInput(
            f"idempotencyKey must be 1..{MAX_EDIT_KEY} characters.", field="idempotencyKey"
        )
    push: dict[str, object] = {"$each": new_ids}
    if position is not None:
        push["$position"] = position
    # The size guard and the key check are part of the update's filter: one atomic step.
    query: dict[str, object] = {
        "_id": playlist.id,
        f"song_ids.{MAX_SONGS - len(new_ids)}": {"$exists": False},
    }
    update: dict[str, Any] = {
        "$push": {"song_ids": push},
        "$inc": {"version": 1},
        "$set": {"updated_at": utcnow()},
    }
    if idempotency_key is not None:
        query["edit_keys"] = {"$ne": idempotency_key}
        update["$push"]["edit_keys"] = {"$each": [idempotency_key], "$slice": -EDIT_KEYS_KEPT}
    result = await Playlist.get_pymongo_collection().update_one(query, update)
    current = await owned_playlist(playlist_id, owner_id)
    if result.modified_count == 0 and idempotency_key not in current.edit_keys:
        raise BadUserInput(f"A playlist holds at most {MAX_SONGS} songs.", field="songIds")
    return current


async def remove_songs(
    playlist_id: str, owner_id: PydanticObjectId, song_ids: list[str]
) -> Playlist:
    playlist = await owned_playlist(playlist_id, owner_id)
    if len(song_ids) > MAX_SONGS_PER_CALL:
        raise BadUserInput(f"At most {MAX_SONGS_PER_CALL} songs per call.", field="songIds")
    parsed = [parse_object_id(s, field="songIds") for s in song_ids]
    await Playlist.get_pymongo_collection().update_one(
        {"_id": playlist.id},
        {
            "$pull": {"song_ids": {"$in": parsed}},
            "$inc": {"version": 1},
            "$set": {"updated_at": utcnow()},
        },
    )
    return await owned_playlist(playlist_id, owner_id)


async def move_song(
    playlist_id: str, owner_id: PydanticObjectId, song_id: str, position: int
) -> Playlist:
    """Move the first occurrence of `song_id` to `position`; CONFLICT if edited meanwhile."""
    playlist = await owned_playlist(playlist_id, owner_id)
    target = parse_object_id(song_id, field="songId")
    if target not in playlist.song_ids:
        raise NotFound(f"Song '{song_id}' is not in this playlist.", field="songId")
    if not 0 <= position < len(playlist.song_ids):
        raise BadUserInput(
            f"Position must be between 0 and {len(playlist.song_ids) - 1}.", field="position"
        )
    order = list(playlist.song_ids)
    order.remove(target)
    order.insert(position, target)
    result = await Playlist.get_pymongo_collection().update_one(
        {"_id": playlist.id, "version": playlist.version},
        {"$set": {"song_ids": order, "updated_at": utcnow()}, "$inc": {"version": 1}},
    )
    if result.modified_count == 0:
        raise Conflict("The playlist changed meanwhile; reload it and try again.")
    return await owned_playlist(playlist_id, owner_id)


async def playlists_page(
    owner_id: PydanticObjectId, *, first: int, after: str | None
) -> Page[Playlist]:
    return await fetch_page(Playlist.find(Playlist.owner_id == owner_id), first=first, after=after)
