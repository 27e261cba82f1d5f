"""Slow clients cannot hold connections: headers and bodies have read deadlines.

The server under test runs with the same uvicorn options as `madhur-gql serve`, with short
deadlines so the test is quick; the defaults are in docs/security.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from madhur_gql.config import Settings
from tests.conftest import LiveServer, another_server

HEADER_SECONDS = 1.0
BODY_SECONDS = 1.0


@pytest.fixture(scope="module")
async def slow_guarded(settings: Settings) -> AsyncIterator[LiveServer]:
    async with another_server(
        settings,
        ready=False,
        MADHUR_HEADER_TIMEOUT_SECONDS=HEADER_SECONDS,
        MADHUR_BODY_TIMEOUT_SECONDS=BODY_SECONDS,
    ) as server:
        yield server


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes | None:
    """What the server sent before closing, or None if it kept the connection open."""
    try:
        async with asyncio.timeout(seconds):
            return await reader.read()
    except TimeoutError:
        return None


async def test_a_client_that_never_finishes_its_headers_is_dropped(
    slow_guarded: LiveServer,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_guarded.port)
    try:
        writer.write(b"POST /graphql HTTP/1.1\r\nhost: x\r\n")  # and never the blank line
        await writer.drain()
        assert await _closed_within(reader, HEADER_SECONDS + 3) is not None
    finally:
        writer.close()


async def test_a_client_that_trickles_its_body_gets_a_json_408(slow_guarded: LiveServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_guarded.port)
    try:
        writer.write(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 200\r\n\r\n"
            b'{"query": "{ __typename'
        )
        await writer.drain()
        answer = await _closed_within(reader, BODY_SECONDS + 3)
        assert answer is not None, "the connection was held open"
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        assert b'"REQUEST_TIMEOUT"' in body and b"x-request-id" in head.lower()
    finally:
        writer.close()


async def test_a_client_between_requests_is_dropped(slow_guarded: LiveServer) -> None:
    """An idle keep-alive connection is closed (uvicorn's keep-alive timeout)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_guarded.port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        await writer.drain()
        answer = await _closed_within(reader, 10)
        assert answer is not None and answer.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()
