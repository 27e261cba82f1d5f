"""Artists: found or created by name, so imports and admin edits share one artist per name."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping

from beanie import PydanticObjectId
from pymongo.errors import BulkWriteError

from madhur_gql.documents import Artist, Song
from madhur_gql.documents.common import utcnow
from madhur_gql.errors import Conflict, NotFound
from madhur_gql.services.ids import parse_object_id
from madhur_gql.services.names import clean_name

LOOKUP_BATCH = 200
DUPLICATE_KEY = 11000
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


def artist_id_for(key: str) -> PydanticObjectId:
    """A stable id derived from the artist's key: a new artist needs no lookup to be linked.

    (Its ObjectId timestamp is meaningless; `created_at` carries the time.)
    """
    return PydanticObjectId(hashlib.blake2b(key.encode(), digest_size=12).digest())


class ArtistResolver:
    """Artist ids by key during one import, creating missing artists in bulk.

    New artists get their derived id and cost no lookup; artists that already exist (the
    insert is refused) are looked up once each and remembered, up to `cache_size`.
    """

    def __init__(self, cache_size: int = 200_000) -> None:
        self.cache_size = cache_size
        self._known: OrderedDict[str, PydanticObjectId] = OrderedDict()

    async def ids(self, names: Mapping[str, str]) -> dict[str, PydanticObjectId]:
        result: dict[str, PydanticObjectId] = {}
        for key in names:
            if key in self._known:
                self._known.move_to_end(key)
                result[key] = self._known[key]
        missing = [key for key in names if key not in result]
        if missing:
            now = utcnow()
            documents = [
                {
                    "_id": artist_id_for(k),
                    "name": names[k],
                    "name_lc": k,
                    "created_at": now,
                    "updated_at": now,
                }
                for k in missing
            ]
            refused: list[str] = []
            try:
                await Artist.get_pymongo_collection().insert_many(documents, ordered=False)
            except BulkWriteError as error:
                errors = error.details.get("writeErrors", [])
                if any(e.get("code") != DUPLICATE_KEY for e in errors):
                    raise
                refused = [documents[e["index"]]["name_lc"] for e in errors]
            result.update({key: artist_id_for(key) for key in missing})
            result.update(await find_artist_ids(refused))  # existing artists keep their own id
            for key in missing:
                self._known[key] = result[key]
            while len(self._known) > self.cache_size:
                self._known.popitem(last=False)
        return result


async def ensure_artists(names: Mapping[str, str]) -> dict[str, PydanticObjectId]:
    """Artist ids by key for `names` (key -> display name), creating the missing ones."""
    return await ArtistResolver().ids(names)


def validate_artist_name(name: str) -> str:
    return clean_name(name, what="Artist name", max_length=MAX_ARTIST_NAME)


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
    return await Artist(id=artist_id_for(key), name=name, name_lc=key).insert()


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
