"""Song's Spotify fields over real HTTP: filled in the background, never an error."""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.services.spotify import service as service_module
from madhur_gql.services.spotify.service import SpotifyService
from tests.conftest import SAMPLE_CATALOG, GraphQLClient, LiveServer, make_settings
from tests.spotify.conftest import spotify_settings
from tests.spotify.fake_spotify import FakeSpotify

SONGS = """
query Songs($first: Int!) {
  songs(first: $first) {
    edges { node {
      trackId
      small: albumCoverUrl(size: SMALL)
      medium: albumCoverUrl
      large: albumCoverUrl(size: LARGE)
      spotifyUrl previewUrl artistImageUrl
    } }
  }
}
"""
SPOTIFY_FIELDS = ("small", "medium", "large", "spotifyUrl", "previewUrl", "artistImageUrl")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSpotify]:
    fake = FakeSpotify().start()
    with SAMPLE_CATALOG.open() as handle:
        for row in csv.DictReader(handle):
            artist_id = f"{abs(hash(row['track_artist'])):022d}"[:22]
            fake.add_track(row["track_id"], row["track_name"], [(artist_id, row["track_artist"])])
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def settings(mongo_server: EmbeddedMongo, database_name: str, fake: FakeSpotify) -> Settings:
    return spotify_settings(mongo_server, database_name, fake, SPOTIFY_MAX_ATTEMPTS=2)


def spotify_service(server: LiveServer) -> SpotifyService:
    service: SpotifyService = server.app.state.services.spotify
    return service


async def songs(client: GraphQLClient, first: int) -> list[dict[str, Any]]:
    data = await client.data(SONGS, {"first": first})
    return [edge["node"] for edge in data["songs"]["edges"]]


async def test_fields_are_null_at_first_then_filled_in_the_background(
    client: GraphQLClient, live_server: LiveServer, fake: FakeSpotify
) -> None:
    before = await songs(client, 3)
    assert all(song[field] is None for song in before for field in SPOTIFY_FIELDS)

    await asyncio.wait_for(spotify_service(live_server).idle(), 10)
    after = await songs(client, 3)

    for song in after:
        key = song["trackId"]
        assert song["small"] == f"https://i.scdn.co/image/ab67616d00004851{key}"
        assert song["medium"] == f"https://i.scdn.co/image/ab67616d00001e02{key}"
        assert song["large"] == f"https://i.scdn.co/image/ab67616d0000b273{key}"
        assert song["spotifyUrl"] == f"https://open.spotify.com/track/{key}"
        assert song["previewUrl"] is None  # what Spotify gives most apps today
        assert song["artistImageUrl"].startswith("https://i.scdn.co/image/ab67616100005174")
    assert fake.count("/v1/tracks/") == 3


async def test_a_cached_song_costs_no_spotify_request(
    client: GraphQLClient, live_server: LiveServer, fake: FakeSpotify
) -> None:
    await songs(client, 3)
    await asyncio.wait_for(spotify_service(live_server).idle(), 10)
    fake.reset_counts()

    again = await songs(client, 3)
    await asyncio.wait_for(spotify_service(live_server).idle(), 10)

    assert all(song["spotifyUrl"] for song in again)
    assert fake.api_requests == 0


async def test_a_spotify_outage_never_fails_or_slows_a_request(
    client: GraphQLClient, live_server: LiveServer, fake: FakeSpotify
) -> None:
    fake.set_outage(500)
    try:
        started = time.perf_counter()
        page = await songs(client, 10)  # 7 of these were never fetched
        elapsed = time.perf_counter() - started
        await asyncio.wait_for(spotify_service(live_server).idle(), 10)
        again = await songs(client, 10)
    finally:
        fake.set_outage(None)

    assert elapsed < 1.0  # nobody waited on Spotify
    assert [song["spotifyUrl"] is not None for song in page] == [True] * 3 + [False] * 7
    assert [song["spotifyUrl"] is not None for song in again] == [True] * 3 + [False] * 7
    assert fake.api_requests > 0  # the worker did try, in the background


async def test_an_unreachable_spotify_never_fails_a_request(
    client: GraphQLClient, live_server: LiveServer, fake: FakeSpotify
) -> None:
    fake.stop()

    body = await client.execute(SONGS, {"first": 20})
    await asyncio.wait_for(spotify_service(live_server).idle(), 20)

    assert not body.get("errors")
    assert len(body["data"]["songs"]["edges"]) == 20


class RecordingLog:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **fields: self.calls.append((level, event, fields))


async def test_without_credentials_the_api_runs_and_says_why_once(
    mongo_server: EmbeddedMongo,
    database_name: str,
    live_server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = RecordingLog()
    monkeypatch.setattr(service_module, "log", recorder)
    server = LiveServer(make_settings(mongo_server.uri, database_name))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            client = GraphQLClient(http)
            first = await songs(client, 30)
            await songs(client, 30)
    finally:
        await server.stop()

    assert all(song["spotifyUrl"] for song in first[:3])  # what was cached is still served
    assert all(song["spotifyUrl"] is None for song in first[3:])
    messages = [event for _, event, _ in recorder.calls]
    assert len(messages) == 1 and "Spotify metadata is off" in messages[0]
    assert "SPOTIFY_CLIENT_ID" in recorder.calls[0][2]["reason"]
