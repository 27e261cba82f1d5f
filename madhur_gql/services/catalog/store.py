"""The songs every listener reads, held in this process's memory: requests never fetch them.

Every song is kept as a compact record (a list of its fields, audio features in a float array,
repeated strings shared), about a tenth of a parsed document, so a million songs fit in a few
hundred MiB. The songs being served are kept ready as the documents the GraphQL layer reads
(an LRU of READY_SONGS), built once from the record, not parsed per request. Counters are
kept current in place by the one door into memory (`services/live.py`). A song missing here
(created by another process a moment ago) is looked up in the database, in bounded batches,
and kept.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from beanie import PydanticObjectId
from cachetools import LRUCache

from madhur_gql.documents import AudioFeatures, Song
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.errors import NotFound

FETCH_BATCH = 500  # ids per `$in` when a song is not in memory yet
READY_SONGS = 50_000  # songs kept as ready documents (the hot set)
AUDIO = tuple(AudioFeatures.model_fields)
_SPECIAL = {"id", "revision_id", "genres", "subgenres", "playlist_ids", "audio"}
_SPECIAL |= {"like_count", "play_count"}
SCALARS = tuple(name for name in Song.model_fields if name not in _SPECIAL)
_SHARED = {"artist", "artist_id", "album", "album_id", "release_date", "artist_lc"}
_SHARED |= {"language", "country"}
_GENRES, _SUBGENRES, _PLAYLISTS, _AUDIO, _LIKES, _PLAYS = range(len(SCALARS), len(SCALARS) + 6)
_ARTIST_ID = SCALARS.index("artist_id")


class SongStore:
    def __init__(self, ready: int = READY_SONGS) -> None:
        self._songs: dict[PydanticObjectId, list[Any]] = {}
        self._ready: LRUCache[PydanticObjectId, Song] = LRUCache(maxsize=ready)
        self._shared: dict[Any, Any] = {}  # one copy of each repeated value (artists, genres)

    def __len__(self) -> int:
        return len(self._songs)

    def __contains__(self, song_id: object) -> bool:
        return song_id in self._songs

    def load(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Records only: documents are built when first served (start-up stays quick)."""
        for doc in docs:
            self._songs[PydanticObjectId(doc["_id"])] = self._record(doc)

    def upsert(self, doc: Mapping[str, Any]) -> Song:
        """Keep a stored song document (what was stored passed the field rules on the way in)."""
        song_id = PydanticObjectId(doc["_id"])
        record = self._record(doc)
        self._songs[song_id] = record
        return self._document(song_id, record)

    def _share(self, value: Any) -> Any:
        return self._shared.setdefault(value, value)

    def _record(self, doc: Mapping[str, Any]) -> list[Any]:
        defaults = Song.model_fields
        scalars = [
            doc.get(name, defaults[name].get_default(call_default_factory=True)) for name in SCALARS
        ]
        if scalars[_ARTIST_ID] is not None:
            scalars[_ARTIST_ID] = PydanticObjectId(scalars[_ARTIST_ID])
        for i, name in enumerate(SCALARS):
            if name in _SHARED:  # values many songs have in common: one copy each
                scalars[i] = self._share(scalars[i])
        audio = array("d", (float(doc["audio"][name]) for name in AUDIO))
        return [
            *scalars,
            self._share(tuple(doc.get("genres") or ())),
            self._share(tuple(doc.get("subgenres") or ())),
            self._share(tuple(doc.get("playlist_ids") or ())),
            audio,
            int(doc.get("like_count") or 0),
            int(doc.get("play_count") or 0),
        ]

    def _document(self, song_id: PydanticObjectId, record: list[Any]) -> Song:
        """The record as the document the GraphQL layer serves (no validation: it was checked)."""
        audio = dict(zip(AUDIO, record[_AUDIO], strict=True))
        audio["key"], audio["mode"] = int(audio["key"]), int(audio["mode"])
        song = Song.model_construct(
            id=song_id,
            **dict(zip(SCALARS, record, strict=False)),
            genres=list(record[_GENRES]),
            subgenres=list(record[_SUBGENRES]),
            playlist_ids=list(record[_PLAYLISTS]),
            audio=AudioFeatures.model_construct(**audio),
            like_count=record[_LIKES],
            play_count=record[_PLAYS],
        )
        self._ready[song_id] = song
        return song

    def remove(self, song_id: PydanticObjectId) -> None:
        self._songs.pop(song_id, None)
        self._ready.pop(song_id, None)

    def set_counters(
        self, song_id: PydanticObjectId, *, likes: int | None = None, plays: int | None = None
    ) -> None:
        """Absolute values, so applying one change twice (own write, its echo) is harmless."""
        record = self._songs.get(song_id)
        if record is None:
            return
        ready = self._ready.get(song_id)
        if likes is not None:
            record[_LIKES] = int(likes)
            if ready is not None:
                ready.like_count = int(likes)
        if plays is not None:
            record[_PLAYS] = int(plays)
            if ready is not None:
                ready.play_count = int(plays)

    def cached(self, song_id: PydanticObjectId) -> Song | None:
        record = self._songs.get(song_id)
        if record is None:
            return None
        return self._ready.get(song_id) or self._document(song_id, record)

    async def by_ids(self, ids: Sequence[PydanticObjectId]) -> dict[PydanticObjectId, Song]:
        found: dict[PydanticObjectId, Song] = {}
        missing: list[PydanticObjectId] = []
        for song_id in ids:
            song = self.cached(song_id)
            if song is not None:
                found[song_id] = song
            else:
                missing.append(song_id)
        if missing:
            found.update(await self._fetch(missing))
        return found

    async def get(self, song_id: str, *, field: str = "id") -> Song:
        oid = parse_object_id(song_id, field=field)
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
