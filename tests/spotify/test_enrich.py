"""Enrichment into the MongoDB cache: what is stored, when Spotify is asked again, matching."""

from __future__ import annotations

import asyncio
import csv
import hashlib
from datetime import timedelta
from itertools import islice
from typing import Any

import pytest

from madhur_gql.config import Settings
from madhur_gql.db.connection import Database
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.documents import Song
from madhur_gql.documents.common import utcnow
from madhur_gql.documents.spotify import SpotifyArtistInfo, SpotifyTrackInfo
from madhur_gql.domain.spotify import FetchStatus
from madhur_gql.integrations.spotify.client import SpotifyClient
from madhur_gql.services.spotify.cache import load_artist_images, load_track_infos
from madhur_gql.services.spotify.enricher import Enricher
from madhur_gql.services.spotify.service import SpotifyService
from tests.conftest import SAMPLE_CATALOG
from tests.spotify.conftest import FEATURES, spotify_settings
from tests.spotify.fake_spotify import FakeSpotify

pytestmark = pytest.mark.usefixtures("database")

ED = ("6eUKZXaKkcviH0Ku9w2n3V", "Ed Sheeran")


def track_id(label: str) -> str:
    """A distinct 22-character base62 id per test label."""
    return hashlib.sha256(label.encode()).hexdigest()[:22]


@pytest.fixture
def settings_for(mongo_server: EmbeddedMongo, database_name: str, fake_spotify: FakeSpotify) -> Any:
    def build(**extra: Any) -> Settings:
        return spotify_settings(mongo_server, database_name, fake_spotify, **extra)

    return build


@pytest.fixture
def enricher(settings_for: Any) -> Enricher:
    settings = settings_for()
    return Enricher(SpotifyClient(settings), settings)


async def add_song(key: str, title: str, artist: str) -> Song:
    song = Song(track_id=key, title=title, artist=artist, audio=FEATURES)
    await song.insert()
    return song


async def test_an_enriched_song_has_covers_link_and_artist_image(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    key = track_id("covers")
    fake_spotify.add_track(key, "Perfect", [ED], preview_url="https://p.scdn.co/mp3-preview/x")

    entry = await enricher.enrich(key)

    assert entry is not None and entry.status is FetchStatus.OK
    assert entry.cover_small_url == f"https://i.scdn.co/image/ab67616d00004851{key}"
    assert entry.cover_medium_url == f"https://i.scdn.co/image/ab67616d00001e02{key}"
    assert entry.cover_large_url == f"https://i.scdn.co/image/ab67616d0000b273{key}"
    assert entry.spotify_url == f"https://open.spotify.com/track/{key}"
    assert entry.preview_url == "https://p.scdn.co/mp3-preview/x"
    assert entry.artist_image_url == f"https://i.scdn.co/image/ab67616100005174{ED[0]}"
    stored = await SpotifyTrackInfo.get(key)
    assert stored is not None and stored.cover_medium_url == entry.cover_medium_url


async def test_a_cached_song_makes_no_request(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    key = track_id("cached")
    fake_spotify.add_track(key, "Happier", [ED])
    await enricher.enrich(key)
    fake_spotify.reset_counts()

    again = await enricher.enrich(key)
    [loaded] = await load_track_infos([key])

    assert again is not None and again.status is FetchStatus.OK
    assert loaded is not None and loaded.spotify_url == again.spotify_url
    assert fake_spotify.api_requests == 0


async def test_songs_of_one_artist_share_one_artist_request(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    artist = ("1Xyo4u8uXC1ZmMpatF05PJ", "The Weeknd")
    keys = [track_id(f"weeknd-{n}") for n in range(3)]
    for n, key in enumerate(keys):
        fake_spotify.add_track(key, f"Song {n}", [artist])

    entries = await asyncio.gather(*(enricher.enrich(key) for key in keys))

    assert {e.artist_image_url for e in entries if e} == {
        f"https://i.scdn.co/image/ab67616100005174{artist[0]}"
    }
    assert fake_spotify.count("/v1/tracks/") == 3
    assert fake_spotify.count("/v1/artists/") == 1


async def test_a_catalog_artist_finds_its_image_by_name_unless_the_name_is_shared(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    key = track_id("by-name")
    fake_spotify.add_track(key, "Levitating", [("6M2wZ9GZgrQXHCFfjv46we", "Dua Lipa")])
    await enricher.enrich(key)
    for n in range(2):  # two different Spotify artists called "Common"
        await SpotifyArtistInfo(
            id=f"common{n}",
            status=FetchStatus.OK,
            name="Common",
            name_lc="common",
            image_url=f"https://i.scdn.co/image/common{n}",
        ).insert()

    images = await load_artist_images(["Dua Lipa", "DUA LIPA", "Common", "Nobody Known"])

    dua = "https://i.scdn.co/image/ab676161000051746M2wZ9GZgrQXHCFfjv46we"
    assert images == [dua, dua, None, None]


async def test_a_404_is_recorded_and_not_asked_again_until_the_refresh_age(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    key = track_id("gone")

    entry = await enricher.enrich(key)
    assert entry is not None and entry.status is FetchStatus.NOT_FOUND
    assert entry.refresh_at - entry.fetched_at == timedelta(days=30)
    assert await enricher.enrich(key) is not None
    assert fake_spotify.count("/v1/tracks/") == 1

    entry.refresh_at = utcnow() - timedelta(seconds=1)  # the refresh age has passed
    await entry.save()
    await enricher.enrich(key)
    assert fake_spotify.count("/v1/tracks/") == 2


async def test_a_failed_fetch_is_retried_later_with_growing_backoff(
    fake_spotify: FakeSpotify, settings_for: Any
) -> None:
    settings = settings_for(SPOTIFY_MAX_ATTEMPTS=2)
    enricher = Enricher(SpotifyClient(settings), settings)
    key = track_id("flaky")
    fake_spotify.add_track(key, "Flaky", [ED])
    fake_spotify.fail("/v1/tracks/", *[500] * 4)

    first = await enricher.enrich(key)
    assert first is not None and first.status is FetchStatus.ERROR and first.attempts == 1
    assert first.refresh_at - first.fetched_at == timedelta(minutes=10)
    await enricher.enrich(key)  # still inside the backoff: no request
    assert fake_spotify.count("/v1/tracks/") == 2

    first.refresh_at = utcnow() - timedelta(seconds=1)
    await first.save()
    second = await enricher.enrich(key)
    assert second is not None and second.attempts == 2
    assert second.refresh_at - second.fetched_at == timedelta(minutes=20)

    second.refresh_at = utcnow() - timedelta(seconds=1)
    await second.save()
    third = await enricher.enrich(key)  # the failures are used up: Spotify is back
    assert third is not None and third.status is FetchStatus.OK and third.attempts == 0


async def test_a_failed_refresh_keeps_the_covers_we_had(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    key = track_id("refresh")
    fake_spotify.add_track(key, "Photograph", [ED])
    entry = await enricher.enrich(key)
    assert entry is not None
    entry.refresh_at = utcnow() - timedelta(seconds=1)
    await entry.save()
    fake_spotify.set_outage(503)

    refreshed = await enricher.enrich(key)

    assert refreshed is not None and refreshed.status is FetchStatus.OK
    assert refreshed.cover_medium_url == entry.cover_medium_url
    assert refreshed.last_error is not None and "503" in refreshed.last_error


async def test_a_song_without_spotify_id_is_matched_when_unambiguous(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    spotify_id = track_id("shape")
    fake_spotify.add_track(spotify_id, "Shape of You", [ED])
    fake_spotify.add_track(track_id("shape-acoustic"), "Shape of You - Acoustic", [ED])
    await add_song("local:shape-of-you", "Shape Of You", "Ed Sheeran")

    entry = await enricher.enrich("local:shape-of-you")

    assert entry is not None and entry.status is FetchStatus.OK
    assert entry.matched_by_search and entry.spotify_id == spotify_id
    assert entry.spotify_url == f"https://open.spotify.com/track/{spotify_id}"
    assert fake_spotify.count("/v1/search") == 1
    assert fake_spotify.count("/v1/tracks/") == 0  # search results are full track objects


async def test_an_ambiguous_search_records_no_match(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    fake_spotify.add_track(track_id("perfect-1"), "Perfect", [ED])
    fake_spotify.add_track(track_id("perfect-2"), "Perfect", [ED])  # the duet, another album
    await add_song("local:perfect", "Perfect", "Ed Sheeran")

    entry = await enricher.enrich("local:perfect")

    assert entry is not None and entry.status is FetchStatus.AMBIGUOUS
    assert entry.spotify_id is None and entry.spotify_url is None
    assert entry.cover_medium_url is None


async def test_a_search_by_another_artist_is_not_a_match(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    fake_spotify.add_track(track_id("hello-cover"), "Hello", [("0" * 22, "Adele Tribute Band")])
    await add_song("local:hello", "Hello", "Adele")

    entry = await enricher.enrich("local:hello")

    assert entry is not None and entry.status is FetchStatus.NOT_FOUND
    assert entry.spotify_url is None


async def test_requests_per_enriched_song_on_the_sample_catalog(
    fake_spotify: FakeSpotify, enricher: Enricher
) -> None:
    """One track request per song plus one artist request per distinct artist."""
    with SAMPLE_CATALOG.open() as handle:
        rows = list(islice(csv.DictReader(handle), 200))
    songs = {row["track_id"]: row["track_artist"] for row in rows}
    for key, artist in songs.items():
        fake_spotify.add_track(key, key, [(track_id(f"artist-{artist}"), artist)])
    semaphore = asyncio.Semaphore(4)

    async def enrich(key: str) -> SpotifyTrackInfo | None:
        async with semaphore:
            return await enricher.enrich(key)

    entries = await asyncio.gather(*(enrich(key) for key in songs))

    assert all(e is not None and e.status is FetchStatus.OK for e in entries)
    artists = len(set(songs.values()))
    assert fake_spotify.count("/v1/tracks/") == len(songs)
    assert fake_spotify.count("/v1/artists/") == artists
    per_song = fake_spotify.api_requests / len(songs)
    assert per_song == pytest.approx(1 + artists / len(songs))
    print(f"\n{len(songs)} songs, {artists} artists: {per_song:.2f} requests per enriched song")


async def test_the_worker_enriches_queued_songs_once_each(
    fake_spotify: FakeSpotify, settings_for: Any
) -> None:
    service = SpotifyService(settings_for(SPOTIFY_WORKERS=2))
    keys = [track_id(f"worker-{n}") for n in range(4)]
    for key in keys:
        fake_spotify.add_track(key, key, [ED])
    await service.start()
    try:
        for _ in range(3):  # three requests viewing the same songs: queued once
            for key in keys:
                service.want(key, None)
        await asyncio.wait_for(service.idle(), 10)
    finally:
        await service.stop()

    assert fake_spotify.count("/v1/tracks/") == len(keys)
    entries = await load_track_infos(keys)
    assert all(e is not None and e.status is FetchStatus.OK for e in entries)


async def test_a_full_queue_drops_ids_instead_of_blocking(
    fake_spotify: FakeSpotify, settings_for: Any
) -> None:
    service = SpotifyService(settings_for(SPOTIFY_QUEUE_SIZE=2, SPOTIFY_WORKERS=1))
    keys = [track_id(f"full-{n}") for n in range(5)]
    for key in keys:
        fake_spotify.add_track(key, key, [ED])
    await service.start()
    try:
        for key in keys:  # no await between: the worker cannot drain in the meantime
            service.want(key, None)
        assert service.dropped == 3
        await asyncio.wait_for(service.idle(), 10)
    finally:
        await service.stop()

    assert fake_spotify.count("/v1/tracks/") == 2


async def test_rejected_credentials_switch_the_worker_off(
    fake_spotify: FakeSpotify, settings_for: Any
) -> None:
    service = SpotifyService(settings_for(SPOTIFY_CLIENT_SECRET="wrong"))
    await service.start()
    try:
        service.want(track_id("a"), None)
        await asyncio.wait_for(service.idle(), 10)
        service.want(track_id("b"), None)
        await asyncio.wait_for(service.idle(), 10)
    finally:
        await service.stop()

    assert service.disabled_reason == "Spotify rejected the client credentials"
    assert fake_spotify.count("/api/token") == 1


async def test_without_credentials_nothing_is_queued(
    database: Database, settings: Settings
) -> None:
    service = SpotifyService(settings)  # the module settings carry no Spotify credentials
    await service.start()
    service.want(track_id("x"), None)

    assert service.disabled_reason is not None and "SPOTIFY_CLIENT_ID" in service.disabled_reason
    assert not service.running
    await service.stop()
