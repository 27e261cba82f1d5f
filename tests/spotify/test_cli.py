"""Bulk enrichment (`madhur-gql enrich`): which songs it picks and what it costs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from madhur_gql.db.connection import Database
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.documents import Song
from madhur_gql.documents.spotify import SpotifyTrackInfo
from madhur_gql.domain.spotify import FetchStatus
from madhur_gql.services.spotify.batch import enrich_songs
from tests.spotify.conftest import FEATURES, spotify_settings
from tests.spotify.fake_spotify import FakeSpotify

ARTISTS = [("4gzpq5DPGxSnKTe4SA8HAU", "Coldplay"), ("06HL4z0CvFAxyc27GXpf02", "Taylor Swift")]
KEYS = [hashlib.sha256(f"cli-{n}".encode()).hexdigest()[:22] for n in range(8)]


@pytest.fixture(scope="module", autouse=True)
async def catalog(database: Database) -> None:
    for n, key in enumerate(KEYS[:-1]):
        await Song(
            track_id=key, title=f"Song {n}", artist=ARTISTS[n % 2][1], audio=FEATURES
        ).insert()
    await Song(track_id=KEYS[-1], title="Gone", artist="Nobody", audio=FEATURES).insert()


def add_tracks(fake: FakeSpotify) -> None:
    for n, key in enumerate(KEYS[:-1]):  # the last song is no longer on Spotify
        fake.add_track(key, f"Song {n}", [ARTISTS[n % 2]])


async def test_enrich_fetches_missing_songs_then_has_nothing_left(
    fake_spotify: FakeSpotify, mongo_server: EmbeddedMongo, database_name: str
) -> None:
    add_tracks(fake_spotify)
    settings = spotify_settings(mongo_server, database_name, fake_spotify)
    seen: list[int] = []
    progress: list[str | None] = []

    limited = await enrich_songs(settings, limit=3, on_selected=seen.append)
    report = await enrich_songs(
        settings,
        on_selected=seen.append,
        on_done=lambda entry, _: progress.append(entry.status.value if entry else None),
    )
    again = await enrich_songs(settings, on_selected=seen.append)

    assert seen == [3, 5, 0]  # 3 with --limit, then the 5 left, then none
    assert sum(limited.outcomes.values()) == 3
    assert report.outcomes == {"ok": 4, "not_found": 1}
    assert sorted(progress, key=str) == ["not_found", "ok", "ok", "ok", "ok"]
    assert again.requests["api"] == 0
    # 8 track requests and one per artist (2): 1.25 requests per song.
    assert fake_spotify.count("/v1/tracks/") == 8
    assert fake_spotify.count("/v1/artists/") == 2
    gone = await SpotifyTrackInfo.get(KEYS[-1])
    assert gone is not None and gone.status is FetchStatus.NOT_FOUND


async def test_enrich_all_fetches_fresh_songs_again(
    fake_spotify: FakeSpotify, mongo_server: EmbeddedMongo, database_name: str
) -> None:
    add_tracks(fake_spotify)
    settings = spotify_settings(mongo_server, database_name, fake_spotify)

    report = await enrich_songs(settings, refetch=True, limit=4)

    assert report.selected == 4
    assert fake_spotify.count("/v1/tracks/") == 4
    assert report.requests_per_song == pytest.approx(fake_spotify.api_requests / 4)


def test_enrich_command_without_credentials_explains_and_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from madhur_gql.cli import app
    from madhur_gql.config import get_settings

    for name in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("madhur_gql.cli.configure_logging", lambda *a, **k: None)
    monkeypatch.chdir(tmp_path)  # a developer's .env must not apply
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["enrich", "--missing"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 2
    assert "SPOTIFY_CLIENT_ID" in " ".join(result.output.split())


def test_enrich_command_runs_with_a_progress_bar_and_a_summary(
    fake_spotify: FakeSpotify,
    mongo_server: EmbeddedMongo,
    database_name: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from madhur_gql.cli import app
    from madhur_gql.config import get_settings

    add_tracks(fake_spotify)
    monkeypatch.setenv("MONGODB_URI", mongo_server.uri)
    monkeypatch.setenv("MADHUR_DB_NAME", database_name)
    # The command configures logging onto the runner's stream, closed once it returns.
    monkeypatch.setattr("madhur_gql.cli.configure_logging", lambda *a, **k: None)
    monkeypatch.chdir(tmp_path)  # a developer's .env must not apply
    for name, value in fake_spotify.settings_overrides().items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["enrich", "--all", "--limit", "2"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "enrichment finished" in result.output
    assert fake_spotify.count("/v1/tracks/") == 2
