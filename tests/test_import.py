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
from madhur_gql.documents import Song
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
