"""The songs every listener reads, held in this process's memory: requests never fetch them.

Each song is parsed once (at start-up or when it changes) into the document the GraphQL layer
serves; its like and play counters are kept current in place by the one door into memory
(`services/live.py`), fed by this process's writes and by the change streams. A song missing
here (created by another process a moment ago) is looked up in the database, in bounded
batches, and kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from beanie import PydanticObjectId

from madhur_gql.documents import Song
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.errors import NotFound

FETCH_BATCH = 500  # ids per `$in` when a song is not in memory yet


class SongStore:
    def __init__(self) -> None:
        self._songs: dict[PydanticObjectId, Song] = {}

    def __len__(self) -> int:
        return len(self._songs)

    def __contains__(self, song_id: object) -> bool:
        return song_id in self._songs

    def load(self, docs: Iterable[Mapping[str, Any]]) -> None:
        for doc in docs:
            self.upsert(doc)

    def upsert(self, doc: Mapping[str, Any]) -> Song:
        song = Song.model_validate(doc)
        assert song.id is not None
        self._songs[song.id] = song
        return song

    def remove(self, song_id: PydanticObjectId) -> None:
        self._songs.pop(song_id, None)

    def set_counters(
        self, song_id: PydanticObjectId, *, likes: int | None = None, plays: int | None = None
    ) -> None:
        """Absolute values, so applying one change twice (own write, its echo) is harmless."""
        song = self._songs.get(song_id)
        if song is None:
            return
        if likes is not None:
            song.like_count = int(likes)
        if plays is not None:
            song.play_count = int(plays)

    def cached(self, song_id: PydanticObjectId) -> Song | None:
        return self._songs.get(song_id)

    def all(self) -> list[Song]:
        return list(self._songs.values())

    async def by_ids(self, ids: Sequence[PydanticObjectId]) -> dict[PydanticObjectId, Song]:
        found: dict[PydanticObjectId, Song] = {}
        missing: list[PydanticObjectId] = []
        for song_id in ids:
            song = self._songs.get(song_id)
            if song is not None:
                found[song_id] = song
            else:
                missing.append(song_id)
        if missing:
            found.update(await self._fetch(missing))
        return found

    async def get(self, song_id: str) -> Song:
        oid = parse_object_id(song_id, field="id")
        found = await self.by_ids([oid])
        if oid not in found:
            raise NotFound(f"No song with id '{song_id}'.")
        return found[oid]

    async def exists(self, song_id: PydanticObjectId) -> bool:
        return song_id in self._songs or bool(await self._fetch([song_id]))

    async def _fetch(self, ids: Sequence[PydanticObjectId]) -> dict[PydanticObjectId, Song]:
        unique = list(dict.fromkeys(ids))
        found: dict[PydanticObjectId, Song] = {}
        collection = Song.get_pymongo_collection()
        for start in range(0, len(unique), FETCH_BATCH):
            batch = unique[start : start + FETCH_BATCH]
            async for doc in collection.find({"_id": {"$in": batch}}):
                song = self.upsert(doc)
                assert song.id is not None
                found[song.id] = song
        return found
