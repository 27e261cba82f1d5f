"""Bad and hostile requests at volume: each gets a clear 4xx or GraphQL error, fast."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import GraphQLClient, error_codes, register_user

LIMIT_SECONDS = 5.0  # every refusal below is answered well within this


async def post(
    client: GraphQLClient, body: bytes, content_type: str = "application/json"
) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    response = await client.http.post(
        "/graphql", content=body, headers={"content-type": content_type}
    )
    return response.status_code, response.content, time.perf_counter() - started


@pytest.mark.parametrize(
    ("name", "body", "status"),
    [
        ("invalid JSON", b"{not json", 400),
        ("invalid UTF-8", b'{"query": "{ genres { name } }", "x": "\xff\xfe"}', 400),
        ("truncated JSON", b'{"query": "{ genres', 400),
        ("JSON that is not an object", b"[1, 2, 3]", 400),
        ("oversized body", b'{"query": "' + b"a" * 3_000_000 + b'"}', 413),
        (
            "deeply nested variables",
            b'{"query": "{ genres { name } }", "variables": {"a": '
            + b"[" * 40_000
            + b"]" * 40_000
            + b"}}",
            400,
        ),
    ],
)
async def test_malformed_bodies_get_a_client_error(
    client: GraphQLClient, name: str, body: bytes, status: int
) -> None:
    code, content, seconds = await post(client, body)
    assert code == status, (name, content[:200])
    assert seconds < LIMIT_SECONDS


async def test_huge_first_is_refused_before_any_work(client: GraphQLClient) -> None:
    started = time.perf_counter()
    body = await client.execute("{ songs(first: 1000000000) { totalCount } }")
    assert error_codes(body)[0] in ("BAD_USER_INPUT", "QUERY_TOO_COMPLEX")
    assert time.perf_counter() - started < LIMIT_SECONDS


async def test_ten_thousand_ids_are_refused(client: GraphQLClient) -> None:
    token = (await register_user(client))["accessToken"]
    ids = [str(i) for i in range(10_000)]
    started = time.perf_counter()
    seeds = await client.execute(
        "query($s: [ID!]) { recommendations(seedSongIds: $s) { score } }", {"s": ids}, token=token
    )
    assert error_codes(seeds) == ["BAD_USER_INPUT"]
    playlist = await client.execute(
        'mutation { createPlaylist(input: {name: "big"}) { id } }', token=token
    )
    add = await client.execute(
        "mutation($p: ID!, $s: [ID!]!) { addSongsToPlaylist(id: $p, songIds: $s) { songCount } }",
        {"p": playlist["data"]["createPlaylist"]["id"], "s": ids},
        token=token,
    )
    assert error_codes(add) == ["BAD_USER_INPUT"]
    assert time.perf_counter() - started < LIMIT_SECONDS


async def test_a_burst_of_bad_requests_leaves_the_service_healthy(client: GraphQLClient) -> None:
    bodies = [b"{not json", b"\xff" * 100, json.dumps({"query": "{ nope }"}).encode()] * 100
    for body in bodies:
        code, _, _ = await post(client, body)
        assert code < 500
    assert (await client.http.get("/healthz")).status_code == 200
    assert (await client.data("{ genres { name } }"))["genres"]
