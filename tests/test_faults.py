"""Faults, shortened for CI: the database dies and comes back; the API is stopped or killed.

The full-length runs (under load, with counts) are in bench/faults.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from tests.conftest import (
    GraphQLClient,
    LiveServer,
    error_codes,
    make_settings,
    register_user,
)
from tests.test_restart import ServeProcess, embedded_server_alive

RECORD = """mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"""
HISTORY = "{ myHistory(first: 100) { totalCount edges { node { id } } } }"


@pytest.fixture(scope="module")
def doomed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedMongo]:
    """A database of this module's own, so that killing it harms no other test."""
    server = EmbeddedMongo(tmp_path_factory.mktemp("doomed"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def settings(doomed_server: EmbeddedMongo, database_name: str) -> Settings:
    return make_settings(doomed_server.uri, database_name)


@pytest.fixture(scope="module")
async def client(settings: Settings) -> AsyncIterator[GraphQLClient]:
    server = LiveServer(settings)
    await server.start()
    await server.wait_ready()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield GraphQLClient(http)
    await server.stop()


async def timed(coroutine: object) -> tuple[object, float]:
    started = time.perf_counter()
    result = await coroutine  # type: ignore[misc]
    return result, time.perf_counter() - started


async def test_database_outage_fails_fast_and_recovers_without_loss(
    client: GraphQLClient, doomed_server: EmbeddedMongo
) -> None:
    token = (await register_user(client))["accessToken"]
    songs = await client.data("{ songs(first: 10) { edges { node { id } } } }")
    song_ids = [edge["node"]["id"] for edge in songs["songs"]["edges"]]
    acknowledged = []
    for i, song in enumerate(song_ids[:5]):
        body = await client.execute(
            RECORD, {"i": {"songId": song, "kind": "PLAY", "idempotencyKey": f"k{i}"}}, token=token
        )
        acknowledged.append(body["data"]["recordInteraction"]["id"])

    doomed_server.kill()
    try:
        # The catalog is served from memory: browsing goes on while the database is away.
        body, seconds = await timed(client.execute("{ songs(first: 5) { edges { node { id } } } }"))
        assert not error_codes(body) and len(body["data"]["songs"]["edges"]) == 5  # type: ignore[index]
        # What needs the database (per-user data, writes) fails fast and says why.
        body, seconds = await timed(client.execute(HISTORY, token=token))
        assert error_codes(body) == ["SERVICE_UNAVAILABLE"] and seconds < 8  # type: ignore[arg-type]
        failed_write = {"songId": song_ids[5], "kind": "PLAY", "idempotencyKey": "k5"}
        body, seconds = await timed(client.execute(RECORD, {"i": failed_write}, token=token))
        assert error_codes(body) == ["SERVICE_UNAVAILABLE"] and seconds < 8  # type: ignore[arg-type]
        for path in ("/healthz", "/readyz"):
            response, seconds = await timed(client.http.get(path))
            assert response.status_code == 503 and seconds < 8  # type: ignore[attr-defined]
    finally:
        doomed_server.start()

    recovered_after = time.perf_counter()
    while (await client.http.get("/healthz")).status_code != 200:
        assert time.perf_counter() - recovered_after < 30, "API did not recover"
        await asyncio.sleep(0.2)
    history = await client.execute(HISTORY, token=token)
    stored = [edge["node"]["id"] for edge in history["data"]["myHistory"]["edges"]]
    assert set(acknowledged) <= set(stored), "an acknowledged write was lost"

    # The client retries the write that failed: with its idempotency key it is stored once.
    first = await client.execute(RECORD, {"i": failed_write}, token=token)
    again = await client.execute(RECORD, {"i": failed_write}, token=token)
    assert first["data"]["recordInteraction"]["id"] == again["data"]["recordInteraction"]["id"]
    history = await client.execute(HISTORY, token=token)
    assert history["data"]["myHistory"]["totalCount"] == len(acknowledged) + 1


async def test_the_change_feed_resumes_after_the_outage(
    client: GraphQLClient, settings: Settings
) -> None:
    """Writes made by another process after the restart still reach this one."""
    from madhur_gql.db.connection import init_database
    from madhur_gql.documents import Song

    db_client, _ = await init_database(str(settings.mongodb_uri), settings.database_name)
    try:
        song = await Song.find_one({"title_lc": {"$regex": "^"}})
        assert song is not None
        await Song.get_pymongo_collection().update_one(
            {"_id": song.id},
            {"$set": {"title": "Renamed After Outage", "title_lc": "renamed after outage"}},
        )
        for _ in range(100):
            page = await client.data(
                '{ songs(first: 1, search: "renamed after outage") { totalCount } }'
            )
            if page["songs"]["totalCount"] == 1:
                break
            await asyncio.sleep(0.1)
        assert page["songs"]["totalCount"] == 1
    finally:
        await db_client.close()


def test_sigterm_drains_an_in_flight_request(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path / "data")
    try:
        server.wait_healthy()
        body = b'{"query": "{ genres { name songCount } }"}'
        request = (
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
            connection.sendall(request + body[:10])  # the request is now in flight
            time.sleep(0.3)
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            connection.sendall(body[10:])
            response = b""
            while chunk := connection.recv(65536):  # the server closes after draining
                response += chunk
        assert response.startswith(b"HTTP/1.1 200"), response[:200]
        assert b'"genres"' in response
        code = server.process.wait(30)
        assert code in (0, -signal.SIGTERM)
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert not embedded_server_alive(tmp_path / "data")


def test_sigkill_of_the_api_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = ServeProcess(data_dir)
    try:
        first.wait_ready()  # the demo catalog in: its songs are played below
        token = first.graphql(
            'mutation { register(input: {email: "k@example.com", password: "a long passphrase",'
            ' displayName: "K"}) { accessToken } }'
        )["register"]["accessToken"]
        songs = first.graphql("{ songs(first: 20) { edges { node { id } } } }")["songs"]["edges"]
        for edge in songs:
            song_id = edge["node"]["id"]
            first.graphql(
                f'mutation {{ recordInteraction(input: {{songId: "{song_id}", kind: PLAY}}) {{ id }} }}',
                token,
            )
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
        # The embedded database was the killed process's child: it keeps running, and the
        # next `serve` finds it through the data directory and uses it.
        second = ServeProcess(data_dir)
        try:
            second.wait_healthy()
            login = second.graphql(
                'mutation { login(email: "k@example.com", password: "a long passphrase") { accessToken } }'
            )["login"]["accessToken"]
            history = second.graphql("{ myHistory { totalCount } }", login)
            assert history["myHistory"]["totalCount"] == len(songs)
            recs = second.graphql("{ recommendations(first: 5) { source } }", login)
            assert len(recs["recommendations"]) == 5
        finally:
            second.stop()
    finally:
        if first.process.poll() is None:
            first.process.kill()
        _kill_orphaned_database(data_dir)


def _kill_orphaned_database(data_dir: Path) -> None:
    state = data_dir / "server.json"
    if state.exists():
        pid = json.loads(state.read_text())["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
