"""Reading an import file: its layout, its chunks, each row checked against the field table
(with the reason when refused), and one merged track per Spotify id."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from madhur_gql.domain.locales import country_code, language_code
from madhur_gql.domain.song_fields import (
    AUDIO,
    AUDIO_FIELDS,
    DURATION_MS,
    MAX_ARTIST,
    MAX_TITLE,
    POPULARITY,
    RELEASE_DATE,
    UNIT_FEATURES,
    NumberField,
    name_key,
)

CHUNK_ROWS = 5000
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
    "language",  # ISO 639-1 ("ne"); blank: unknown, as for every song of the demo catalog
    "country",  # ISO 3166-1 alpha-2 ("NP")
)
LOCALE_COLUMNS = {
    "language": (language_code, "language is not an ISO 639-1 code (two letters, such as ne)"),
    "country": (country_code, "country is not an ISO 3166-1 alpha-2 code (such as NP)"),
}


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int  # line in the file, the header being line 1
    track_id: str
    reason: str


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
    reject(frame["track_name"].str.len() > MAX_TITLE, f"title over {MAX_TITLE} characters")
    reject(frame["track_artist"].str.len() > MAX_ARTIST, f"artist over {MAX_ARTIST} characters")
    for column in UNIT_FEATURES:
        values = frame[column]
        reject(values.isna(), f"{column} missing or not a number")
        reject(~_within(values, AUDIO[column]), f"{column} out of range 0..1")
    tempo, loudness, key, mode = AUDIO["tempo"], AUDIO["loudness"], AUDIO["key"], AUDIO["mode"]
    reject(frame["tempo"].isna() | (frame["tempo"] <= tempo.low), "tempo must be a number above 0")
    reject(frame["tempo"] > tempo.high, f"tempo above {tempo.high:g} BPM")
    reject(frame["loudness"] > loudness.high, f"loudness above {loudness.high:g} dB")
    reject(frame["loudness"] < loudness.low, f"loudness below {loudness.low:g} dB")
    reject(_outside(frame["key"], key), f"key must be {key.low:g}..{key.high:g}")
    reject(_outside(frame["mode"], mode), "mode must be 0 or 1")
    reject(
        _outside(frame["track_popularity"], POPULARITY),
        f"popularity out of range {POPULARITY.low:g}..{POPULARITY.high:g}",
    )
    reject(frame["duration_ms"] < DURATION_MS.low, "duration_ms below 0")
    reject(frame["duration_ms"] > DURATION_MS.high, "duration_ms over 24 hours")
    dates = _text(frame["track_album_release_date"])
    reject((dates != "") & ~dates.str.match(RELEASE_DATE), "unparsable release date")
    frame["track_album_release_date"] = dates
    for column, (canonical, reason) in LOCALE_COLUMNS.items():
        given = _text(frame[column])
        lookup = {text: (canonical(text) or "") if text else "" for text in given.unique()}
        codes = pd.Series([lookup[text] for text in given], index=frame.index, dtype=object)
        reject((given != "") & (codes == ""), reason)
        frame[column] = codes

    bad = reasons != ""
    rejected = [
        RejectedRow(line=int(line), track_id=str(track), reason=str(reason))
        for line, track, reason in zip(
            frame.loc[bad, "line"], frame.loc[bad, "track_id"], reasons[bad], strict=True
        )
    ]
    return frame.loc[~bad], rejected


def _within(values: pd.Series, field: NumberField) -> pd.Series:
    """Rows whose value is in `field`'s bounds (NaN is not: the caller decides about blanks)."""
    low_ok = values > field.low if field.above else values >= field.low
    inside = low_ok & (values <= field.high)
    if field.integer:
        inside &= values.round() == values
    return inside


def _outside(values: pd.Series, field: NumberField) -> pd.Series:
    """Rows with a value out of `field`'s bounds; blanks are not (they take `field.missing`)."""
    return values.notna() & ~_within(values, field)


def _optional_text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any, default: float | None) -> float:
    if value is None or pd.isna(value):
        assert default is not None  # required columns were checked by validate_chunk
        return default
    return float(value)


def _audio_value(row: dict[str, Any], field: NumberField) -> float | int:
    value = _number(row[field.name], field.missing)
    return int(value) if field.integer else value


def _code(value: Any, *, lower: bool) -> str | None:
    """A two-letter ISO code (language lower case, country upper case), None when blank."""
    text = None if value is None or pd.isna(value) else _optional_text(value)
    if text is None:
        return None
    text = text.strip().lower() if lower else text.strip().upper()
    return text if len(text) == 2 and text.isalpha() else None


def song_fields(row: dict[str, Any]) -> dict[str, Any]:
    title, artist = str(row["track_name"]), str(row["track_artist"])
    return {
        "track_id": str(row["track_id"]),
        "title": title,
        "artist": artist,
        "title_lc": title.lower(),
        "artist_lc": name_key(artist),
        "album": _optional_text(row["track_album_name"]),
        "album_id": _optional_text(row["track_album_id"]),
        "release_date": row["track_album_release_date"] or None,
        "popularity": int(_number(row["track_popularity"], POPULARITY.missing)),
        "duration_ms": int(_number(row["duration_ms"], DURATION_MS.missing)),
        "language": row["language"] or None,
        "country": row["country"] or None,
        "audio": {field.name: _audio_value(row, field) for field in AUDIO_FIELDS},
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
                track.memberships[name].add(value if name == "playlist_ids" else name_key(value))
    return tracks
