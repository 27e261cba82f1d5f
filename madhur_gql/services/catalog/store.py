"""The songs every listener reads, held in this process's memory: requests never fetch them.

The store is columnar (columns.py): one typed array per number field, the audio features in
one float array, each title (and track id, and lower-cased title) in one UTF-8 buffer with
offsets, the values many songs share (artists, albums, dates, genre lists) once each with a
code per song, and the ids as one sorted 12-byte column, not a dict. A Python object per song
and field cost about 730 bytes a song; this is about 390, so a million songs fit beside the
recommender in a worker. The songs being served are kept ready as the documents the GraphQL
layer reads (an LRU of READY_SONGS), built once from the columns, not parsed per request.
Counters are kept current in place by the one door into memory (`services/live.py`). A song
missing here (created by another process a moment ago) is looked up in the database, in
bounded batches, and kept.

An edited song's new strings are appended to the buffers (the old bytes stay: edits are
rare next to the catalog's size); a removed song's row is left unused.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from cachetools import LRUCache

from madhur_gql.documents import AudioFeatures, Song
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.errors import NotFound
from madhur_gql.services.catalog.columns import Keys, Shared, Text, put

FETCH_BATCH = 500  # ids per `$in` when a song is not in memory yet
READY_SONGS = 50_000  # songs kept as ready documents (the hot set)
AUDIO = tuple(AudioFeatures.model_fields)
WHOLE_AUDIO = {name for name, spec in AudioFeatures.model_fields.items() if spec.annotation is int}
TEXT = ("track_id", "title", "title_lc")  # different for nearly every song
NUMBERS = ("popularity", "duration_ms", "like_count", "play_count")
TIMES = ("created_at", "updated_at")
# Everything else (artist, album, dates, codes, genre lists, and any field added later) is
# stored once per distinct value.
SHARED = tuple(
    name for name in Song.model_fields if name not in {"id", "audio", *TEXT, *NUMBERS, *TIMES}
)
LISTS = frozenset(name for name in SHARED if Song.model_fields[name].default_factory is list)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key(song_id: object) -> bytes | None:
    if isinstance(song_id, ObjectId):
        return song_id.binary
    if isinstance(song_id, str) and ObjectId.is_valid(song_id):
        return ObjectId(song_id).binary
    return None


def _micros(at: datetime) -> int:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)  # MongoDB's datetimes are UTC
    return (at - EPOCH) // timedelta(microseconds=1)


class SongStore:
    def __init__(self, ready: int = READY_SONGS) -> None:
        # the song id's 12 bytes <-> its row (a dict of them was ~110 bytes a song)
        self._keys = Keys()
        self._text = {name: Text() for name in TEXT}
        self._shared = {name: Shared() for name in SHARED}
        self._numbers = {name: array("q") for name in NUMBERS}
        self._times = {name: array("q") for name in TIMES}
        self._audio = array("d")  # len(AUDIO) per row
        self._ready: LRUCache[PydanticObjectId, Song] = LRUCache(maxsize=ready)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, song_id: object) -> bool:
        key = _key(song_id)
        return key is not None and self._keys.row(key) is not None

    def load(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Columns only: documents are built when first served (start-up stays quick)."""
        for doc in docs:
            self._write(doc)

    def replace_all(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Every song afresh (a saved read model that could not be brought up to date)."""
        fresh = SongStore(int(self._ready.maxsize))
        fresh.load(docs)
        vars(self).update(vars(fresh))

    def saved_state(self) -> dict[str, Any]:
        """The columns, for `services/catalog/saved.py` (the ready documents are rebuilt)."""
        state = dict(vars(self))
        state["_ready"] = LRUCache(maxsize=self._ready.maxsize)
        return state

    @classmethod
    def from_saved(cls, state: dict[str, Any]) -> SongStore:
        store = cls()
        vars(store).update(state)
        return store

    def upsert(self, doc: Mapping[str, Any]) -> Song:
        """Keep a stored song document (what was stored passed the field rules on the way in)."""
        song_id = PydanticObjectId(doc["_id"])
        self._ready.pop(song_id, None)
        return self._document(song_id, self._write(doc))

    def _write(self, doc: Mapping[str, Any]) -> int:
        """Every value is read before the row is taken: a document that cannot be held raises
        and leaves the columns as they were (a half-written row would break every read)."""
        key = ObjectId(doc["_id"]).binary
        texts = {name: str(_value(doc, name)) for name in self._text}
        shared_values: dict[str, Any] = {}
        for name in self._shared:
            value = _value(doc, name)
            if name in LISTS:
                value = tuple(value or ())
            elif name == "artist_id" and value is not None:
                value = PydanticObjectId(value)
            shared_values[name] = value
        numbers_of = {name: int(_value(doc, name) or 0) for name in self._numbers}
        times_of = {}
        for name in self._times:
            at = _value(doc, name)
            times_of[name] = _micros(at if isinstance(at, datetime) else _default(name))
        audio = array("d", (float(doc["audio"][name]) for name in AUDIO))
        row = self._keys.hold(key)
        for name, text in self._text.items():
            text.put(row, texts[name])
        for name, shared in self._shared.items():
            shared.put(row, shared_values[name])
        for name, numbers in self._numbers.items():
            put(numbers, row, numbers_of[name])
        for name, times in self._times.items():
            put(times, row, times_of[name])
        start = row * len(AUDIO)
        if start == len(self._audio):
            self._audio.extend(audio)
        else:
            self._audio[start : start + len(AUDIO)] = audio
        return row

    def _document(self, song_id: PydanticObjectId, row: int) -> Song:
        """The row as the document the GraphQL layer serves (no validation: it was checked)."""
        fields: dict[str, Any] = {name: text.get(row) for name, text in self._text.items()}
        for name, shared in self._shared.items():
            value = shared.get(row)
            fields[name] = list(value) if name in LISTS else value
        for name, numbers in self._numbers.items():
            fields[name] = numbers[row]
        for name, times in self._times.items():
            fields[name] = EPOCH + timedelta(microseconds=times[row])
        start = row * len(AUDIO)
        audio: dict[str, Any] = dict(
            zip(AUDIO, self._audio[start : start + len(AUDIO)], strict=True)
        )
        for name in WHOLE_AUDIO:
            audio[name] = int(audio[name])
        song = Song.model_construct(
            id=song_id, **fields, audio=AudioFeatures.model_construct(**audio)
        )
        self._ready[song_id] = song
        return song

    def remove(self, song_id: PydanticObjectId) -> None:
        self._keys.drop(song_id.binary)
        self._ready.pop(song_id, None)

    def set_counters(
        self, song_id: PydanticObjectId, *, likes: int | None = None, plays: int | None = None
    ) -> None:
        """Absolute values, so applying one change twice (own write, its echo) is harmless."""
        row = self._keys.row(song_id.binary)
        if row is None:
            return
        ready = self._ready.get(song_id)
        if likes is not None:
            self._numbers["like_count"][row] = int(likes)
            if ready is not None:
                ready.like_count = int(likes)
        if plays is not None:
            self._numbers["play_count"][row] = int(plays)
            if ready is not None:
                ready.play_count = int(plays)

    def cached(self, song_id: PydanticObjectId) -> Song | None:
        ready = self._ready.get(song_id)  # a ready song is held (`remove` drops it)
        if ready is not None:
            return ready
        row = self._keys.row(song_id.binary)
        return self._document(song_id, row) if row is not None else None

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
        return self._keys.row(song_id.binary) is not None or bool(await self._fetch([song_id]))

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


def _value(doc: Mapping[str, Any], name: str) -> Any:
    """The stored value, or the model's default where the document has none."""
    return doc[name] if name in doc else _default(name)


def _default(name: str) -> Any:
    return Song.model_fields[name].get_default(call_default_factory=True)
