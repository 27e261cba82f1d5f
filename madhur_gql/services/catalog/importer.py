"""Bulk import of song datasets in the spotify_songs layout (CSV, CSV.gz, Parquet).

Rows stream in chunks, so memory stays flat whatever the file size. Each track is upserted by
its Spotify track id: a track listed in several playlists becomes one song that keeps all of
its playlist genres, and importing the same file twice changes nothing. Every write is a
whole document, so an interrupted import leaves complete songs only; running it again
finishes the job.

A first pass reads the track id column alone (8 bytes a row: a hash and its last chunk), so a
track whose rows span several chunks is held back until its last row and then inserted once,
whole: a fresh import is one `insert_many` per chunk and nothing else, which is what the
database would do for the finished documents anyway (bench/import_overhead.py). At most
`max_held` tracks wait; past that they are written and their later rows merged, as without
the first pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError
from pymongo.write_concern import WriteConcern

from madhur_gql.documents import Song
from madhur_gql.services.catalog.artists import ArtistResolver
from madhur_gql.services.catalog.import_rows import (
    CHUNK_ROWS,
    LAYOUTS,
    ImportFileError,
    RejectedRow,
    TrackRows,
    apply_layout,
    group_tracks,
    read_chunks,
    read_track_ids,
    validate_chunk,
)

LOOKUP_BATCH = 200
DUPLICATE_KEY = 11000
MAX_HELD_TRACKS = 200_000  # tracks waiting for rows in a later chunk (a few hundred MB at most)


def _track_hashes(track_ids: pd.Series) -> np.ndarray:
    """64-bit hashes of track ids as validate_chunk reads them (stripped, blanks as "")."""
    keys = track_ids.astype("string").str.strip().fillna("")
    return pd.util.hash_array(keys.to_numpy(dtype=object))


class LastChunks:
    """The chunk in which each track id of a file appears for the last time (first pass)."""

    def __init__(self, chunks: Iterator[pd.Series]) -> None:
        hashes, positions = [], []
        for number, track_ids in enumerate(chunks):
            hashes.append(_track_hashes(track_ids))
            positions.append(np.full(len(track_ids), number, dtype=np.int64))
        every = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
        chunk = np.concatenate(positions) if positions else np.empty(0, dtype=np.int64)
        self._hashes, inverse = np.unique(every, return_inverse=True)
        self._last = np.zeros(len(self._hashes), dtype=np.int64)
        np.maximum.at(self._last, inverse, chunk)

    def of(self, track_ids: Sequence[str]) -> list[int]:
        hashes = _track_hashes(pd.Series(list(track_ids), dtype="string"))
        found = np.searchsorted(self._hashes, hashes).clip(max=max(len(self._hashes) - 1, 0))
        return [int(n) for n in self._last[found]] if len(self._hashes) else [0] * len(hashes)


class SeenTracks:
    """Track ids met earlier in this import, as sorted 64-bit hashes (8 bytes a track).

    A track whose rows span several chunks is then counted once in the report.
    """

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.uint64)

    def split(self, track_ids: list[str]) -> tuple[set[str], set[str]]:
        """(ids first met now, ids met before), remembering the new ones."""
        hashes = pd.util.hash_array(np.asarray(track_ids, dtype=object))
        before = np.isin(hashes, self._hashes, assume_unique=False)
        self._hashes = np.union1d(self._hashes, hashes[~before])
        seen = {track_id for track_id, old in zip(track_ids, before, strict=True) if old}
        return set(track_ids) - seen, seen


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    dry_run: bool = False


ProgressCallback = Callable[[int], None]
# Called with the documents each insert stored (with their `_id`), once acknowledged: a
# serving process applies them to its read model without reading them back.
StoredCallback = Callable[[Sequence[dict[str, Any]]], None]


def _sorted_memberships(track: TrackRows) -> dict[str, list[str]]:
    return {name: sorted(values) for name, values in track.memberships.items()}


def merge_rows(held: TrackRows, later: TrackRows) -> None:
    """Later rows of a held track add playlists; its fields stay those of its first row."""
    for name, values in later.memberships.items():
        held.memberships[name] |= values


def stored_time() -> datetime:
    """Now, at the millisecond precision BSON stores: a document kept in memory as it was
    inserted then equals the one read back."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_document(track: TrackRows, now: datetime) -> dict[str, Any]:
    return {
        **track.fields,
        **_sorted_memberships(track),
        "like_count": 0,
        "play_count": 0,
        "created_at": now,
        "updated_at": now,
    }


def merge_operation(track: TrackRows, now: datetime, *, update: bool) -> UpdateOne:
    """Upsert that adds playlist memberships and, with `update`, overwrites the track data."""
    operation: dict[str, Any] = {
        "$addToSet": {
            name: {"$each": values} for name, values in _sorted_memberships(track).items()
        }
    }
    on_insert = {"like_count": 0, "play_count": 0, "created_at": now}
    if update:
        operation["$set"] = {**track.fields, "updated_at": now}
        operation["$setOnInsert"] = on_insert
    else:
        operation["$setOnInsert"] = {**track.fields, **on_insert, "updated_at": now}
    return UpdateOne({"track_id": track.fields["track_id"]}, operation, upsert=True)


async def existing_track_ids(track_ids: list[str]) -> set[str]:
    # Small `$in` batches: each is a handful of index lookups on any MongoDB server.
    collection = Song.get_pymongo_collection()
    found: set[str] = set()
    for start in range(0, len(track_ids), LOOKUP_BATCH):
        batch = track_ids[start : start + LOOKUP_BATCH]
        async for doc in collection.find({"track_id": {"$in": batch}}, {"track_id": 1, "_id": 0}):
            found.add(doc["track_id"])
    return found


async def write_tracks(
    tracks: dict[str, TrackRows],
    report: ImportReport,
    seen: SeenTracks,
    artists: ArtistResolver,
    *,
    update: bool,
    dry_run: bool,
    on_stored: StoredCallback | None = None,
) -> None:
    """Insert the chunk's tracks in bulk; those the unique index refuses exist: merge them.

    A fresh import thus costs one bulk insert per chunk and no lookups.
    """
    _, earlier = seen.split(list(tracks))
    first_seen = [t for track_id, t in tracks.items() if track_id not in earlier]
    again = [t for track_id, t in tracks.items() if track_id in earlier]
    if dry_run:
        stored = await existing_track_ids([t.fields["track_id"] for t in first_seen])
        report.skipped += len(stored)
        report.inserted += len(first_seen) - len(stored)
        return
    artist_ids = await artists.ids(
        {t.fields["artist_lc"]: t.fields["artist"] for t in tracks.values()}
    )
    for track in tracks.values():
        track.fields["artist_id"] = artist_ids[track.fields["artist_lc"]]
    collection = Song.get_pymongo_collection()
    now = stored_time()
    existing: list[TrackRows] = []
    if again and first_seen:
        # Tracks met in an earlier chunk of this file only gain playlists. Each merge is its
        # own statement, and a journaled statement is an fsync on servers that commit per
        # statement (SecantusDB): 4,482 of them in the demo catalog. They go first, unjournaled,
        # and the chunk's journaled insert_many below makes them durable with it (the journal
        # and the oplog are sequential: a write acknowledged as journaled covers those before).
        unjournaled = collection.with_options(write_concern=WriteConcern(w=1, j=False))
        await unjournaled.bulk_write(
            [merge_operation(t, now, update=update) for t in again], ordered=False
        )
        again = []
    if first_seen:
        documents = [new_document(t, now) for t in first_seen]
        refused: set[int] = set()
        try:
            await collection.insert_many(documents, ordered=False)
            report.inserted += len(first_seen)
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            report.inserted += len(first_seen) - len(errors)
            refused = {e["index"] for e in errors}
            existing = [first_seen[i] for i in sorted(refused)]
        if on_stored is not None:  # merges below reach memory by the change stream
            on_stored([d for i, d in enumerate(documents) if i not in refused])
    if existing:
        result = await collection.bulk_write(
            [merge_operation(t, now, update=update) for t in existing], ordered=False
        )
        report.inserted += result.upserted_count  # deleted meanwhile: inserted after all
        report.updated += result.modified_count
        report.skipped += result.matched_count - result.modified_count
    if again:  # a chunk of repeats only (no insert to ride on): journaled as they are
        await collection.bulk_write(
            [merge_operation(t, now, update=update) for t in again], ordered=False
        )


@dataclass(slots=True)
class Prepared:
    """One chunk read, checked and grouped: what the loop needs to write it."""

    number: int
    rows: int
    rejected: list[RejectedRow]
    tracks: dict[str, TrackRows]
    last_chunks: list[int] | None  # per track, the chunk of its last row (first pass)


class ChunkReader:
    """Reads, checks and groups the next chunk; called from a worker thread, one at a time."""

    def __init__(self, path: Path, chunk_rows: int, layout: str) -> None:
        if layout not in LAYOUTS:
            raise ImportFileError(f"unknown layout '{layout}' (known: {', '.join(LAYOUTS)})")
        self._path, self._chunk_rows, self._layout = path, chunk_rows, LAYOUTS[layout]
        self._chunks: Iterator[pd.DataFrame] | None = None
        self._last_chunks: LastChunks | None = None
        self._number = 0
        self._line = 2  # the header is line 1

    def next(self) -> Prepared | None:
        if self._chunks is None:
            ids = read_track_ids(self._path, self._chunk_rows)
            self._last_chunks = LastChunks(ids) if ids is not None else None
            self._chunks = read_chunks(self._path, self._chunk_rows)
        raw = next(self._chunks, None)
        if raw is None:
            return None
        chunk = apply_layout(raw, self._layout)
        valid, rejected = validate_chunk(chunk, first_line=self._line)
        tracks = group_tracks(valid) if len(valid) else {}
        last = self._last_chunks.of(list(tracks)) if self._last_chunks is not None else None
        prepared = Prepared(self._number, len(chunk), rejected, tracks, last)
        self._number += 1
        self._line += len(chunk)
        return prepared


class HeldTracks:
    """Tracks whose rows go on in a later chunk, held until their last one (or `max_held`)."""

    def __init__(self, max_held: int) -> None:
        self.max_held = max_held
        self._tracks: dict[str, TrackRows] = {}
        self._until: dict[str, int] = {}

    def ready(self, chunk: Prepared) -> dict[str, TrackRows]:
        """The tracks to write now that `chunk` has been read."""
        if chunk.last_chunks is None:
            return chunk.tracks
        for (track_id, track), until in zip(chunk.tracks.items(), chunk.last_chunks, strict=True):
            held = self._tracks.get(track_id)
            if held is None:
                self._tracks[track_id], self._until[track_id] = track, until
            else:
                merge_rows(held, track)
        done = [track_id for track_id, until in self._until.items() if until <= chunk.number]
        if len(self._tracks) - len(done) > self.max_held:  # too many waiting: write them all
            done = list(self._tracks)
        for track_id in done:
            del self._until[track_id]
        return {track_id: self._tracks.pop(track_id) for track_id in done}

    def rest(self) -> dict[str, TrackRows]:
        """Left at the end only when the file changed between the two passes."""
        rest, self._tracks, self._until = self._tracks, {}, {}
        return rest


async def import_songs(
    path: Path,
    *,
    update: bool = False,
    dry_run: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    layout: str = "spotify_songs",
    on_progress: ProgressCallback | None = None,
    on_stored: StoredCallback | None = None,
    max_held: int = MAX_HELD_TRACKS,
) -> ImportReport:
    """Import `path` into the songs collection; see the module docstring for the guarantees.

    The next chunk is read and checked in a worker thread while the database writes the
    current one: the import takes about as long as its writes, and a serving process's
    event loop is not held by pandas.
    """
    report = ImportReport(dry_run=dry_run)
    seen = SeenTracks()
    artists = ArtistResolver()
    reader = ChunkReader(path, chunk_rows, layout)
    held = HeldTracks(max_held)

    async def write(tracks: dict[str, TrackRows]) -> None:
        await write_tracks(
            tracks, report, seen, artists, update=update, dry_run=dry_run, on_stored=on_stored
        )

    upcoming = asyncio.ensure_future(asyncio.to_thread(reader.next))
    try:
        while (chunk := await upcoming) is not None:
            upcoming = asyncio.ensure_future(asyncio.to_thread(reader.next))
            report.rows += chunk.rows
            report.rejected.extend(chunk.rejected)
            ready = held.ready(chunk)
            if ready:
                await write(ready)
            if on_progress is not None:
                on_progress(chunk.rows)
        rest = held.rest()
        if rest:
            await write(rest)
    finally:
        if not upcoming.done():  # a write failed: let the reader finish, drop its chunk
            await asyncio.gather(upcoming, return_exceptions=True)
    return report
