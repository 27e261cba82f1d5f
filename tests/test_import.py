"""Importing song datasets: de-duplicated by track id, idempotent, bad rows reported not fatal."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pandas as pd
import pytest

from madhur_gql.db.connection import init_database
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.documents import Artist, Song
from madhur_gql.services.catalog.importer import import_songs
from tests.conftest import DATA, SAMPLE_CATALOG

BAD_ROWS = DATA / "songs_bad_rows.csv"


@pytest.fixture(scope="module")
async def database(mongo_server: EmbeddedMongo, database_name: str) -> AsyncIterator[None]:
    client, _ = await init_database(mongo_server.uri, database_name)
    yield
    await client.drop_database(database_name)
    await client.close()


async def test_sample_import_is_idempotent_and_merges_playlists(database: None) -> None:
    frame = pd.read_csv(SAMPLE_CATALOG)
    first = await import_songs(SAMPLE_CATALOG, chunk_rows=300)
    assert first.inserted == frame.track_id.nunique()
    assert first.rejected == []
    count = await Song.count()
    assert count == frame.track_id.nunique()

    second = await import_songs(SAMPLE_CATALOG, chunk_rows=300)
    assert second.inserted == 0 and second.updated == 0
    assert second.skipped == frame.track_id.nunique()
    assert await Song.count() == count

    # A track listed in several playlists is one song carrying every playlist genre.
    per_track = frame.groupby("track_id").playlist_genre.agg(lambda g: sorted(set(g)))
    multi = per_track[per_track.map(len) > 1]
    assert len(multi) > 0
    track_id, genres = multi.index[0], multi.iloc[0]
    song = await Song.find_one(Song.track_id == track_id)
    assert song is not None and sorted(song.genres) == genres


async def test_bad_rows_are_reported_with_line_and_reason(database: None) -> None:
    report = await import_songs(BAD_ROWS)
    reasons = {row.line: row.reason for row in report.rejected}
    assert reasons == {
        3: "missing title",
        4: "danceability out of range 0..1",
        5: "tempo must be a number above 0",
        6: "unparsable release date",
        7: "energy missing or not a number",
    }
    assert report.inserted == 2
    merged = await Song.find_one(Song.track_id == "good0000000000000000001")
    assert merged is not None
    assert merged.genres == ["latin", "pop"] and merged.subgenres == ["nepali love", "nepali pop"]
    assert merged.release_date == "2019-06-14" and merged.audio.tempo == 110.0
    year_only = await Song.find_one(Song.track_id == "good0000000000000000007")
    assert year_only is not None and year_only.release_date == "2017"
    assert await Song.find_one(Song.track_id == "bad00000000000000000003") is None


async def test_update_overwrites_existing_tracks_only_when_asked(
    database: None, tmp_path: Path
) -> None:
    frame = pd.read_csv(BAD_ROWS).iloc[[0]]
    frame["track_name"] = "Pahilo Maya (Live)"
    changed = tmp_path / "changed.csv"
    frame.to_csv(changed, index=False)

    kept = await import_songs(changed)
    assert (kept.inserted, kept.updated, kept.skipped) == (0, 0, 1)
    song = await Song.find_one(Song.track_id == "good0000000000000000001")
    assert song is not None and song.title == "Pahilo Maya"

    updated = await import_songs(changed, update=True)
    assert updated.updated == 1
    song = await Song.find_one(Song.track_id == "good0000000000000000001")
    assert song is not None and song.title == "Pahilo Maya (Live)"
    assert song.title_lc == "pahilo maya (live)"


def test_cli_dry_run_reports_without_writing(mongo_server: EmbeddedMongo, tmp_path: Path) -> None:
    command = [str(Path(sys.executable).parent / "madhur-gql"), "import-songs", str(BAD_ROWS)]
    env = {"MONGODB_URI": mongo_server.uri, "MADHUR_DB_NAME": "t_import_cli_dry", "PATH": ""}
    result = subprocess.run(
        [*command, "--dry-run"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing written" in result.stderr
    assert "line 4 (bad00000000000000000003): danceability out of range 0..1" in result.stderr
    written = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert "import finished" in written.stderr


def test_cli_refuses_unknown_file_types(mongo_server: EmbeddedMongo, tmp_path: Path) -> None:
    bogus = tmp_path / "songs.xlsx"
    bogus.write_text("nope")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "madhur-gql"), "import-songs", str(bogus)],
        env={"MONGODB_URI": mongo_server.uri, "MADHUR_DB_NAME": "t_import_cli_bad", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "expected .csv, .csv.gz or .parquet" in result.stderr


async def test_kaggle_layout_is_mapped(database: None) -> None:
    report = await import_songs(DATA / "kaggle_tracks.csv", layout="kaggle")
    assert (report.inserted, len(report.rejected)) == (3, 0)
    duet = await Song.find_one(Song.track_id == "1iJBSr7s7jYXzM8EGcbK5b")
    assert (
        duet is not None and duet.artist == "Ingrid Michaelson" and duet.album == "To Begin Again"
    )
    comedy = await Song.find_one(Song.track_id == "5SuOikwiRyPMVoIQDJUgSV")
    assert comedy is not None and comedy.genres == ["acoustic", "j-pop"] and comedy.popularity == 73


async def _stored_songs() -> dict[str, dict]:
    """What a listener sees of each stored song, by track id (ids and times differ per run)."""
    songs = {}
    async for doc in Song.get_pymongo_collection().find({}):
        for name in ("_id", "created_at", "updated_at"):
            doc.pop(name)
        for name in ("genres", "subgenres", "playlist_ids"):
            doc[name] = sorted(doc[name])
        songs[doc.pop("track_id")] = doc
    return songs


async def _fresh_catalog() -> None:
    await Song.get_pymongo_collection().delete_many({})
    await Artist.get_pymongo_collection().delete_many({})


async def test_songs_split_over_chunks_are_stored_as_one_whole_file_would_be(
    database: None,
) -> None:
    """Held back until their last row (the first pass), merged as they arrive (past
    `max_held`), or read in one chunk: the same songs, and each stored document is the one
    handed to `on_stored` for the read model."""
    frame = pd.read_csv(SAMPLE_CATALOG)
    chunks = (frame.index // 300).to_series(index=frame.track_id)
    spread = chunks.groupby(level=0).nunique()
    assert (spread > 1).sum() > 10, "the sample must have tracks over several chunks"

    await _fresh_catalog()
    await import_songs(SAMPLE_CATALOG, chunk_rows=len(frame))
    whole = await _stored_songs()
    assert len(whole) == frame.track_id.nunique()

    await _fresh_catalog()
    handed: list[dict] = []
    report = await import_songs(SAMPLE_CATALOG, chunk_rows=300, on_stored=handed.extend)
    assert report.inserted == len(whole)
    assert await _stored_songs() == whole
    assert len(handed) == len(whole)
    async for doc in Song.get_pymongo_collection().find({}):
        assert doc in handed

    await _fresh_catalog()
    report = await import_songs(SAMPLE_CATALOG, chunk_rows=300, max_held=0)
    assert report.inserted == len(whole)
    assert await _stored_songs() == whole
    await _fresh_catalog()
