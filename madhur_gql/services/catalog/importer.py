"""Bulk import of song datasets in the spotify_songs layout (CSV, CSV.gz, Parquet).

Rows stream in chunks, so memory stays flat whatever the file size. Each track is upserted by
its Spotify track id: a track listed in several playlists becomes one song that keeps all of
its playlist genres, and importing the same file twice changes nothing. Every write is a
whole document, so an interrupted import leaves complete songs only; running it again
finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
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
    validate_chunk,
)

LOOKUP_BATCH = 200
DUPLICATE_KEY = 11000


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


def _sorted_memberships(track: TrackRows) -> dict[str, list[str]]:
    return {name: sorted(values) for name, values in track.memberships.items()}


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
    now = datetime.now(UTC)
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
        try:
            await collection.insert_many([new_document(t, now) for t in first_seen], ordered=False)
            report.inserted += len(first_seen)
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            report.inserted += len(first_seen) - len(errors)
            existing = [first_seen[e["index"]] for e in errors]
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


async def import_songs(
    path: Path,
    *,
    update: bool = False,
    dry_run: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    layout: str = "spotify_songs",
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import `path` into the songs collection; see the module docstring for the guarantees."""
    report = ImportReport(dry_run=dry_run)
    seen = SeenTracks()
    artists = ArtistResolver()
    line = 2
    if layout not in LAYOUTS:
        raise ImportFileError(f"unknown layout '{layout}' (known: {', '.join(LAYOUTS)})")
    for raw in read_chunks(path, chunk_rows):
        chunk = apply_layout(raw, LAYOUTS[layout])
        valid, rejected = validate_chunk(chunk, first_line=line)
        line += len(chunk)
        report.rows += len(chunk)
        report.rejected.extend(rejected)
        if len(valid):
            await write_tracks(
                group_tracks(valid), report, seen, artists, update=update, dry_run=dry_run
            )
        if on_progress is not None:
            on_progress(len(chunk))
    return report


async def catalog_is_empty() -> bool:
    return await Song.get_pymongo_collection().estimated_document_count() == 0
