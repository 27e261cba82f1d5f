"""The HTTP policy against the fake Spotify: retries, Retry-After, 404, pacing, credentials."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from madhur_gql.domain.spotify import FetchStatus
from madhur_gql.integrations.spotify.client import SpotifyClient, SpotifyCredentialsRejected
from tests.conftest import make_settings
from tests.spotify.fake_spotify import FakeSpotify

TRACK = "6f807x0ima9a1j3VPbc7VN"
NO_DB = "mongodb://127.0.0.1:9"  # never connected to: these tests use no database


def client_for(fake: FakeSpotify, **extra: Any) -> SpotifyClient:
    return SpotifyClient(make_settings(NO_DB, "unused", **fake.settings_overrides(**extra)))


async def test_a_track_comes_back_in_spotifys_shape_with_one_token(
    fake_spotify: FakeSpotify,
) -> None:
    fake_spotify.add_track(TRACK, "I Don't Care", [("6eUKZXaKkcviH0Ku9w2n3V", "Ed Sheeran")])
    client = client_for(fake_spotify)

    first = await client.track(TRACK)
    second = await client.track(TRACK)

    assert first.status is FetchStatus.OK and second.status is FetchStatus.OK
    assert first.body is not None
    assert [i["width"] for i in first.body["album"]["images"]] == [640, 300, 64]
    assert first.body["external_urls"]["spotify"] == f"https://open.spotify.com/track/{TRACK}"
    assert fake_spotify.count("/api/token", "POST") == 1  # the token is reused
    assert fake_spotify.count(f"/v1/tracks/{TRACK}") == 2
    assert client.requests == {"token": 1, "api": 2}


async def test_5xx_is_retried_until_it_succeeds(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_track(TRACK)
    fake_spotify.fail("/v1/tracks/", 500, 502, 503)
    client = client_for(fake_spotify, SPOTIFY_MAX_ATTEMPTS=4)

    answer = await client.track(TRACK)

    assert answer.status is FetchStatus.OK
    assert answer.attempts == 4
    assert fake_spotify.count("/v1/tracks/") == 4


async def test_5xx_gives_up_after_the_configured_attempts(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_track(TRACK)
    fake_spotify.fail("/v1/tracks/", *[503] * 10)
    client = client_for(fake_spotify, SPOTIFY_MAX_ATTEMPTS=3)

    answer = await client.track(TRACK)

    assert answer.status is FetchStatus.ERROR
    assert answer.error is not None and "503" in answer.error
    assert fake_spotify.count("/v1/tracks/") == 3


async def test_backoff_grows_between_5xx_retries(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_track(TRACK)
    fake_spotify.fail("/v1/tracks/", 500, 500, 500)
    client = client_for(fake_spotify, SPOTIFY_MAX_ATTEMPTS=4, SPOTIFY_BACKOFF_SECONDS=0.1)

    started = time.perf_counter()
    answer = await client.track(TRACK)
    elapsed = time.perf_counter() - started

    # Waits of 0.1, 0.2 and 0.4 s, each at least half paid because of the jitter.
    assert answer.status is FetchStatus.OK
    assert 0.35 <= elapsed < 2.0


async def test_429_waits_for_retry_after_then_succeeds(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_track(TRACK)
    fake_spotify.fail("/v1/tracks/", 429, retry_after=1)
    client = client_for(fake_spotify)

    started = time.perf_counter()
    answer = await client.track(TRACK)
    elapsed = time.perf_counter() - started

    assert answer.status is FetchStatus.OK
    assert 1.0 <= elapsed < 3.0
    assert fake_spotify.count("/v1/tracks/") == 2


async def test_429_pauses_every_caller_not_just_the_one_refused(
    fake_spotify: FakeSpotify,
) -> None:
    other = "7fvUMiyapMsRRxr07cU8Ef"
    fake_spotify.add_track(TRACK)
    fake_spotify.add_track(other)
    fake_spotify.fail(f"/v1/tracks/{TRACK}", 429, retry_after=1)
    client = client_for(fake_spotify, SPOTIFY_REQUESTS_PER_SECOND=5)
    await client.track(other)  # token fetched; the bucket is now empty
    fake_spotify.reset_counts()

    started = time.perf_counter()
    refused = asyncio.create_task(client.track(TRACK))
    await asyncio.sleep(0.05)
    second = await client.track(other)  # its turn comes at 0.2 s, inside the pause
    second_done = time.perf_counter() - started
    assert (await refused).status is FetchStatus.OK

    assert second.status is FetchStatus.OK
    assert second_done >= 1.0
    assert fake_spotify.api_requests == 3


async def test_404_is_an_answer_and_is_not_retried(fake_spotify: FakeSpotify) -> None:
    client = client_for(fake_spotify)

    answer = await client.track("0000000000000000000000")

    assert answer.status is FetchStatus.NOT_FOUND
    assert fake_spotify.count("/v1/tracks/") == 1


async def test_other_4xx_are_not_retried(fake_spotify: FakeSpotify) -> None:
    client = client_for(fake_spotify)

    answer = await client.search_tracks("track:x artist:y", limit=50)  # over Spotify's 10

    assert answer.status is FetchStatus.ERROR
    assert fake_spotify.count("/v1/search") == 1


async def test_requests_are_paced_at_the_configured_rate(fake_spotify: FakeSpotify) -> None:
    ids = [f"{n:022d}" for n in range(11)]
    for track_id in ids:
        fake_spotify.add_track(track_id)
    client = client_for(fake_spotify, SPOTIFY_REQUESTS_PER_SECOND=20)
    await client.track(ids[0])  # the token request is not paced; take it out of the timing

    started = time.perf_counter()
    answers = await asyncio.gather(*(client.track(track_id) for track_id in ids[1:]))
    elapsed = time.perf_counter() - started

    assert all(a.status is FetchStatus.OK for a in answers)
    # 10 requests at 20/s after the bucket's one token was spent: at least 0.45 s.
    assert 0.45 <= elapsed < 3.0


async def test_an_expired_token_is_replaced(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_track(TRACK)
    client = client_for(fake_spotify)
    await client.track(TRACK)
    fake_spotify.state.tokens.clear()  # Spotify revoked it: the next call gets 401

    answer = await client.track(TRACK)

    assert answer.status is FetchStatus.OK
    assert fake_spotify.count("/api/token") == 2


async def test_rejected_credentials_stop_at_once(fake_spotify: FakeSpotify) -> None:
    client = client_for(fake_spotify, SPOTIFY_CLIENT_SECRET="wrong")

    with pytest.raises(SpotifyCredentialsRejected):
        await client.track(TRACK)
    assert fake_spotify.count("/api/token") == 1
    assert fake_spotify.api_requests == 0


async def test_unreachable_spotify_is_an_error_not_a_hang(fake_spotify: FakeSpotify) -> None:
    client = client_for(fake_spotify, SPOTIFY_MAX_ATTEMPTS=3)
    fake_spotify.stop()

    started = time.perf_counter()
    answer = await client.track(TRACK)

    assert answer.status is FetchStatus.ERROR
    assert time.perf_counter() - started < 3.0


async def test_a_failing_token_endpoint_is_retried_like_the_api(fake_spotify: FakeSpotify) -> None:
    fake_spotify.add_track(TRACK)
    fake_spotify.fail("/api/token", 503, 502)
    client = client_for(fake_spotify, SPOTIFY_MAX_ATTEMPTS=3)

    answer = await client.track(TRACK)

    assert answer.status is FetchStatus.OK
    assert fake_spotify.count("/api/token") == 3
    assert fake_spotify.count("/v1/tracks/") == 1
