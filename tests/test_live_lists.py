"""Live lists: `recommendationsUpdated` over graphql-transport-ws, with a real WebSocket client.

The server is the real app under uvicorn; a second app instance on the same database stands
in for another worker.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from madhur_gql.config import Settings
from tests.conftest import GraphQLClient, LiveServer, new_listener, register_user

LIVE = """subscription($first: Int) {
  recommendationsUpdated(first: $first) { listId score source song { id title } } }"""
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"
PROTOCOL = Subprotocol("graphql-transport-ws")


class Live:
    """One graphql-transport-ws connection: the client side of the protocol, by hand."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def next_list(self, timeout: float = 10) -> list[dict[str, Any]]:
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        assert not message["payload"].get("errors"), message
        items: list[dict[str, Any]] = message["payload"]["data"]["recommendationsUpdated"]
        return items


def ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def live(
    server: LiveServer, token: str | None, first: int = 10, *, subscribe: bool = True
) -> AsyncIterator[Live]:
    async with connect(ws_url(server), subprotocols=[PROTOCOL]) as ws:
        assert ws.subprotocol == PROTOCOL
        session = Live(ws)
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await session.send({"type": "connection_init", "payload": payload})
        ack = await session.receive()
        assert ack["type"] == "connection_ack", ack
        if subscribe:
            await session.send(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": LIVE, "variables": {"first": first}},
                }
            )
        yield session


async def record(client: GraphQLClient, token: str, song_id: str, kind: str) -> None:
    body = await client.execute(RECORD, {"i": {"songId": song_id, "kind": kind}}, token=token)
    assert not body.get("errors"), body


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["song"]["id"] for item in items]


async def test_a_subscriber_gets_a_list_at_once_and_a_fresh_one_within_a_second_of_a_play(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    token = await new_listener(client)
    async with live(live_server, token) as session:
        first = await session.next_list()
        assert len(first) == 10
        assert len({item["listId"] for item in first}) == 1
        played = first[0]["song"]["id"]
        # A quiet second first: a change sooner than that after a push waits for the second.
        await asyncio.sleep(1.0)
        started = time.monotonic()
        await record(client, token, played, "PLAY")
        fresh = await session.next_list(timeout=5)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"pushed {elapsed:.2f} s after the play"
        assert played not in ids(fresh)  # a played song does not come back
        assert len(fresh) == 10
        assert fresh[0]["listId"] != first[0]["listId"]


async def test_likes_and_skips_push_too_but_never_more_than_once_a_second(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    """A like, then a skip every 0.3 s for 2.4 s: pushes come a second apart, none lost."""
    token = await new_listener(client)
    async with live(live_server, token, first=20) as session:
        first = await session.next_list()
        songs = ids(first)

        async def listen() -> None:
            await record(client, token, songs[0], "LIKE")
            for song in songs[1:9]:
                await asyncio.sleep(0.3)
                await record(client, token, song, "SKIP")

        writer = asyncio.create_task(listen())
        arrivals: list[float] = []
        lists: list[list[dict[str, Any]]] = []
        deadline = math.inf
        while (left := deadline - time.monotonic()) > 0:
            if writer.done() and deadline == math.inf:
                deadline = time.monotonic() + 1.5  # the last write's push is due within 1 s
            try:
                lists.append(await session.next_list(timeout=min(left, 1.5)))
            except TimeoutError:
                continue
            arrivals.append(time.monotonic())
        await writer
        gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
        assert len(arrivals) >= 2, gaps  # nine writes over at least 2.4 s
        assert all(gap >= 0.95 for gap in gaps), gaps
        # Nothing is lost by coalescing: the last list knows the like and every skip.
        assert not set(songs[:9]) & set(ids(lists[-1]))


async def test_another_listeners_plays_do_not_push(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    token, other = await new_listener(client), await new_listener(client)
    async with live(live_server, token) as session:
        first = await session.next_list()
        await record(client, other, first[0]["song"]["id"], "PLAY")
        with pytest.raises(TimeoutError):
            await session.receive(timeout=1.5)


async def test_without_a_token_the_subscription_is_refused_unauthenticated(
    live_server: LiveServer,
) -> None:
    async with live(live_server, None) as session:
        message = await session.receive()
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]


async def test_a_bad_token_closes_the_connection_at_init(live_server: LiveServer) -> None:
    async with connect(ws_url(live_server), subprotocols=[PROTOCOL]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer nope"}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_over_plain_http_the_subscription_is_refused_with_a_code(
    client: GraphQLClient,
) -> None:
    token = await new_listener(client)
    body = await client.execute(LIVE, {"first": 5}, token=token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SUBSCRIPTION_NEEDS_WEBSOCKET"]
    assert "graphql-transport-ws" in body["errors"][0]["message"]


async def test_a_revoked_session_ends_the_live_list(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    email = f"live-{uuid.uuid4().hex[:8]}@example.com"
    token = (await register_user(client, email=email))["accessToken"]
    async with live(live_server, token) as session:
        first = await session.next_list()
        body = await client.execute("mutation { logoutEverywhere }", token=token)
        assert not body.get("errors"), body
        login = await client.execute(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            {"e": email, "p": "correct horse battery"},
        )
        await record(client, login["data"]["login"]["accessToken"], first[0]["song"]["id"], "PLAY")
        message = await session.receive(timeout=5)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"], message


async def test_the_list_size_is_bounded(client: GraphQLClient, live_server: LiveServer) -> None:
    token = await new_listener(client)
    async with live(live_server, token, first=500) as session:
        message = await session.receive()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]


async def test_a_write_through_another_instance_pushes_within_a_second(
    client: GraphQLClient, live_server: LiveServer, settings: Settings
) -> None:
    # Last in the module: the two apps share one process's Beanie binding, which the
    # second one's shutdown closes (separate processes in production).
    other = LiveServer(settings)
    await other.start()
    await other.wait_ready()
    try:
        token = await new_listener(client)
        async with (
            live(live_server, token) as session,
            httpx.AsyncClient(base_url=other.url, timeout=30) as http,
        ):
            first = await session.next_list()
            remote = GraphQLClient(http)
            await asyncio.sleep(1.0)  # a quiet second, as in the first test
            started = time.monotonic()
            await record(remote, token, first[0]["song"]["id"], "SKIP")
            fresh = await session.next_list(timeout=5)
            elapsed = time.monotonic() - started
            assert elapsed < 1.0, f"pushed {elapsed:.2f} s after the skip on the other instance"
            assert first[0]["song"]["id"] not in ids(fresh)
    finally:
        await other.stop()
