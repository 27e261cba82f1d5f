"""Bulk import of song datasets in the spotify_songs layout (CSV, CSV.gz, Parquet).

Rows stream in chunks, so memory stays flat whatever the file size. Each track is upserted by
its Spotify track id: a track listed in several playlists becomes one song that keeps all of
its playlist genres, and importing the same file twice changes nothing. Every write is a
whole document, so an interrupted import leaves complete songs only; running it again
finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from madhur_gql.documents import Song
from madhur_gql.services.artists import ArtistResolver, artist_key

CHUNK_ROWS = 5000
LOOKUP_BATCH = 200
DUPLICATE_KEY = 11000
UNIT_FEATURES = (
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
)
REQUIRED_COLUMNS = ("track_id", "track_name", "track_artist", *UNIT_FEATURES, "tempo")
OPTIONAL_COLUMNS = (
    "track_popularity",
    "track_album_id",
    "track_album_name",
    "track_album_release_date",
    "playlist_id",
    "playlist_genre",
    "playlist_subgenre",
    "key",
    "loudness",
    "mode",
    "duration_ms",
)
DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int  # line in the file, the header being line 1
    track_id: str
    reason: str


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


class ImportFileError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Layout:
    """How another data set's columns map onto the spotify_songs layout."""

    renames: dict[str, str]
    list_separator: dict[str, str] = field(default_factory=dict)  # column -> separator: keep first


LAYOUTS: dict[str, Layout] = {
    "spotify_songs": Layout(renames={}),
    # Kaggle "Spotify Tracks Dataset" (maharshipandya): one genre per row, artists joined by ";".
    "kaggle": Layout(
        renames={
            "artists": "track_artist",
            "album_name": "track_album_name",
            "popularity": "track_popularity",
            "track_genre": "playlist_genre",
        },
        list_separator={"track_artist": ";"},
    ),
}


def apply_layout(chunk: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    chunk = chunk.rename(columns=layout.renames)
    for column, separator in layout.list_separator.items():
        if column in chunk.columns:
            chunk[column] = chunk[column].astype("string").str.split(separator).str[0]
    return chunk


def read_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
        return
    if not (name.endswith(".csv") or name.endswith(".csv.gz")):
        raise ImportFileError(f"{path}: expected .csv, .csv.gz or .parquet")
    yield from pd.read_csv(path, chunksize=chunk_rows, dtype={"track_id": "string"})


def _text(column: pd.Series) -> pd.Series:
    return column.astype("string").str.strip().fillna("")


def validate_chunk(chunk: pd.DataFrame, first_line: int) -> tuple[pd.DataFrame, list[RejectedRow]]:
    """Split a chunk into importable rows and rejected ones, each with the reason."""
    missing = [c for c in REQUIRED_COLUMNS if c not in chunk.columns]
    if missing:
        raise ImportFileError(f"missing columns: {', '.join(missing)}")
    frame = chunk.copy()
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.NA
    frame["line"] = np.arange(first_line, first_line + len(frame))
    for column in ("track_id", "track_name", "track_artist"):
        frame[column] = _text(frame[column])
    numeric = [
        *UNIT_FEATURES,
        "tempo",
        "loudness",
        "key",
        "mode",
        "track_popularity",
        "duration_ms",
    ]
    for column in numeric:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")

    reasons = pd.Series("", index=frame.index, dtype="object")

    def reject(mask: pd.Series, reason: str) -> None:
        mask = mask & (reasons == "")
        reasons[mask] = reason

    reject(frame["track_id"] == "", "missing track_id")
    reject(frame["track_name"] == "", "missing title")
    reject(frame["track_artist"] == "", "missing artist")
    for column in UNIT_FEATURES:
        values = frame[column]
        reject(values.isna(), f"{column} missing or not a number")
        reject((values < 0) | (values > 1), f"{column} out of range 0..1")
    reject(frame["tempo"].isna() | (frame["tempo"] <= 0), "tempo must be a number above 0")
    reject(frame["loudness"].notna() & (frame["loudness"] > 5), "loudness above 5 dB")
    reject(frame["key"].notna() & ~frame["key"].isin([-1, *range(12)]), "key must be -1..11")
    reject(frame["mode"].notna() & ~frame["mode"].isin([0, 1]), "mode must be 0 or 1")
    reject(
        frame["track_popularity"].notna()
        & ((frame["track_popularity"] < 0) | (frame["track_popularity"] > 100)),
        "popularity out of range 0..100",
    )
    reject(frame["duration_ms"].notna() & (frame["duration_ms"] < 0), "duration_ms below 0")
    dates = _text(frame["track_album_release_date"])
    reject((dates != "") & ~dates.str.match(DATE_PATTERN), "unparsable release date")
    frame["track_album_release_date"] = dates

    bad = reasons != ""
    rejected = [
        RejectedRow(line=int(line), track_id=str(track), reason=str(reason))
        for line, track, reason in zip(
            frame.loc[bad, "line"], frame.loc[bad, "track_id"], reasons[bad], strict=True
        )
    ]
    return frame.loc[~bad], rejected


def _optional_text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any, default: float) -> float:
    return default if value is None or pd.isna(value) else float(value)


def song_fields(row: dict[str, Any]) -> dict[str, Any]:
    title, artist = str(row["track_name"]), str(row["track_artist"])
    return {
        "track_id": str(row["track_id"]),
        "title": title,
        "artist": artist,
        "title_lc": title.lower(),
        "artist_lc": artist_key(artist),
        "album": _optional_text(row["track_album_name"]),
        "album_id": _optional_text(row["track_album_id"]),
        "release_date": row["track_album_release_date"] or None,
        "popularity": int(_number(row["track_popularity"], 0)),
        "duration_ms": int(_number(row["duration_ms"], 0)),
        "audio": {
            **{name: float(row[name]) for name in UNIT_FEATURES},
            "tempo": float(row["tempo"]),
            "loudness": _number(row["loudness"], -60.0),
            "key": int(_number(row["key"], -1)),
            "mode": int(_number(row["mode"], 1)),
        },
    }


@dataclass(slots=True)
class TrackRows:
    """All rows of one track in a chunk, merged: one song with every playlist it sits in."""

    fields: dict[str, Any]
    memberships: dict[str, set[str]]


MEMBERSHIP_COLUMNS = {
    "genres": "playlist_genre",
    "subgenres": "playlist_subgenre",
    "playlist_ids": "playlist_id",
}


def group_tracks(valid: pd.DataFrame) -> dict[str, TrackRows]:
    tracks: dict[str, TrackRows] = {}
    for row in cast(list[dict[str, Any]], valid.to_dict("records")):
        track_id = str(row["track_id"])
        track = tracks.get(track_id)
        if track is None:
            track = TrackRows(song_fields(row), {name: set() for name in MEMBERSHIP_COLUMNS})
            tracks[track_id] = track
        for name, column in MEMBERSHIP_COLUMNS.items():
            value = _optional_text(row[column])
            if value:
                track.memberships[name].add(value if name == "playlist_ids" else value.lower())
    return tracks


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
    if again:  # met in an earlier chunk of this file: they only gain playlists, counted once
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
