"""Artists: found or created by name, so imports and admin edits share one artist per name."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from beanie import PydanticObjectId
from pymongo.errors import BulkWriteError

from madhur_gql.documents import Artist, Song
from madhur_gql.documents.common import utcnow
from madhur_gql.errors import BadUserInput, Conflict, NotFound
from madhur_gql.services.ids import parse_object_id

LOOKUP_BATCH = 200
MAX_ARTIST_NAME = 200


def artist_key(name: str) -> str:
    return " ".join(name.split()).lower()


async def find_artist_ids(keys: list[str]) -> dict[str, PydanticObjectId]:
    collection = Artist.get_pymongo_collection()
    found: dict[str, PydanticObjectId] = {}
    for start in range(0, len(keys), LOOKUP_BATCH):
        query = {"name_lc": {"$in": keys[start : start + LOOKUP_BATCH]}}
        async for doc in collection.find(query, {"name_lc": 1}):
            found[doc["name_lc"]] = PydanticObjectId(doc["_id"])
    return found


async def ensure_artists(names: Mapping[str, str]) -> dict[str, PydanticObjectId]:
    """Artist ids by key for `names` (key -> display name), creating the missing ones."""
    found = await find_artist_ids(list(names))
    missing = [key for key in names if key not in found]
    if missing:
        now = utcnow()
        documents = [
            {"name": names[key], "name_lc": key, "created_at": now, "updated_at": now}
            for key in missing
        ]
        # A concurrent import may have created some of them: all are looked up below.
        with contextlib.suppress(BulkWriteError):
            await Artist.get_pymongo_collection().insert_many(documents, ordered=False)
        found.update(await find_artist_ids(missing))
    return found


def validate_artist_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise BadUserInput("Artist name must not be empty.", field="name")
    if len(name) > MAX_ARTIST_NAME:
        raise BadUserInput(f"Artist name is at most {MAX_ARTIST_NAME} characters.", field="name")
    return name


async def get_artist(artist_id: str) -> Artist:
    artist = await Artist.get(parse_object_id(artist_id, field="id"))
    if artist is None:
        raise NotFound(f"No artist with id '{artist_id}'.")
    return artist


async def create_artist(name: str) -> Artist:
    name = validate_artist_name(name)
    key = artist_key(name)
    if await Artist.find_one(Artist.name_lc == key) is not None:
        raise Conflict(f"An artist named '{name}' already exists.", field="name")
    return await Artist(name=name, name_lc=key).insert()


async def rename_artist(artist_id: str, name: str) -> Artist:
    artist = await get_artist(artist_id)
    name = validate_artist_name(name)
    key = artist_key(name)
    other = await Artist.find_one(Artist.name_lc == key)
    if other is not None and other.id != artist.id:
        raise Conflict(f"An artist named '{name}' already exists.", field="name")
    artist.name, artist.name_lc, artist.updated_at = name, key, utcnow()
    await artist.save()
    await Song.get_pymongo_collection().update_many(
        {"artist_id": artist.id},
        {"$set": {"artist": name, "artist_lc": key, "updated_at": utcnow()}},
    )
    return artist


async def delete_artist(artist_id: str) -> Artist:
    """Refused while songs still name the artist: deleting their songs is a separate choice."""
    artist = await get_artist(artist_id)
    if await Song.find_one(Song.artist_id == artist.id) is not None:
        raise Conflict("Delete or reassign this artist's songs first.", field="id")
    await artist.delete()
    return artist
