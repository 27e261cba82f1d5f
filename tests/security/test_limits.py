"""The GraphQL surface under resource attacks, at the default limits (config.py).

Each attack is refused before it costs the server real work; each has a control just under
the limit that passes, so the test would notice a limit that refuses everything.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import get_introspection_query
from structlog.testing import capture_logs

from madhur_gql.config import Settings
from tests.conftest import GraphQLClient, LiveServer
from tests.security.conftest import PASSWORD, codes, new_account

NODE = (
    "id trackId title artist album genres releaseDate popularity durationMs playCount"
    " audioFeatures { danceability energy valence tempo acousticness instrumentalness"
    " speechiness liveness loudness key mode }"
)
PAGE = f"songs(first: 100) {{ totalCount edges {{ cursor node {{ {NODE} }} }} }}"


def test_defaults_are_the_documented_ones(settings: Settings) -> None:
    assert (
        settings.max_query_depth,
        settings.max_query_tokens,
        settings.max_query_aliases,
        settings.max_query_cost,
        settings.max_body_bytes,
        settings.max_password_checks_per_request,
    ) == (10, 2000, 15, 10_000, 100_000, 1)


async def test_cost_budget_refuses_many_large_pages(client: GraphQLClient) -> None:
    one = await client.execute(f"{{ {PAGE} }}")
    assert not one.get("errors") and len(one["data"]["songs"]["edges"]) == 100
    five = " ".join(f"p{i}: {PAGE}" for i in range(5))
    body = await client.execute(f"{{ {five} }}")
    assert codes(body) == ["QUERY_TOO_COMPLEX"] and body["data"] is None
    extensions = body["errors"][0]["extensions"]
    assert extensions["cost"] > extensions["maxCost"] == 10_000


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ songs(first: 100000000) { edges { node { id } } } }", {}),
        ("query($n: Int!) { songs(first: $n) { edges { node { id } } } }", {"n": 2**31 - 1}),
        ("query($n: Int = 5000000) { songs(first: $n) { edges { node { id } } } }", {}),
    ],
)
async def test_huge_pages_are_refused_from_literals_variables_and_defaults(
    client: GraphQLClient, query: str, variables: dict[str, Any]
) -> None:
    body = await client.execute(query, variables)
    assert codes(body) == ["BAD_USER_INPUT"] and body["data"] is None
    assert "between 1 and 100" in body["errors"][0]["message"]


async def test_cost_multiplies_nested_pages(client: GraphQLClient) -> None:
    """100 artists x 100 songs each: small to write, 10,000 songs to fetch."""
    nested = (
        "query($n: Int!) { artists(first: $n) { edges { node { name"
        " songs(first: $n) { edges { node { id title } } } } } } }"
    )
    assert not (await client.execute(nested, {"n": 5})).get("errors")
    body = await client.execute(nested, {"n": 100})
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["cost"] > 10_000


async def test_the_same_document_is_priced_by_its_variables_every_time(
    client: GraphQLClient,
) -> None:
    """Estimates are remembered per document and variables: never one for the other."""
    nested = (
        "query($n: Int!) { artists(first: $n) { edges { node { name"
        " songs(first: $n) { edges { node { id } } } } } } }"
    )
    for n in (100, 4, 100, 4, 100):
        body = await client.execute(nested, {"n": n})
        if n == 100:
            assert codes(body) == ["QUERY_TOO_COMPLEX"], body
        else:
            assert not body.get("errors"), body
            assert len(body["data"]["artists"]["edges"]) == 4


async def test_cost_counts_unpaginated_lists(client: GraphQLClient) -> None:
    """Playlist.songs has no page argument but holds up to 1000 songs."""
    account = await new_account(client)
    query = "query($n: Int!) { myPlaylists(first: $n) { edges { node { songs { id } } } } }"
    small = await client.execute(query, {"n": 20}, token=account.access_token)
    assert not small.get("errors"), small
    body = await client.execute(query, {"n": 100}, token=account.access_token)
    assert codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_depth_limit_stops_recursion(client: GraphQLClient) -> None:
    """Song -> artistProfile -> songs -> ... is a cycle: depth is what bounds it."""
    inner = "id"
    for _ in range(4):
        inner = f"artistProfile {{ songs(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"
    body = await client.execute(f"{{ songs(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "exceeds maximum operation depth of 10" in body["errors"][0]["message"]


async def test_fragment_bomb_is_refused_quickly(client: GraphQLClient) -> None:
    """Each fragment spreads the next ten times: 10^6 leaf selections from a 1 KB document."""
    levels = 6
    fragments = [
        f"fragment F{i} on SongConnection {{ {' '.join([f'...F{i + 1}'] * 10)} totalCount }}"
        for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on SongConnection {{ edges {{ node {{ id }} }} }}")
    started = time.perf_counter()
    body = await client.execute("{ songs(first: 100) { ...F0 } } " + " ".join(fragments))
    assert time.perf_counter() - started < 3
    assert codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_alias_limit(client: GraphQLClient) -> None:
    fifteen = " ".join(f"g{i}: genres {{ name }}" for i in range(15))
    assert not (await client.execute(f"{{ {fifteen} }}")).get("errors")
    sixteen = " ".join(f"g{i}: genres {{ name }}" for i in range(16))
    body = await client.execute(f"{{ {sixteen} }}")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in body["errors"][0]["message"]


async def test_token_limit_stops_parsing(client: GraphQLClient) -> None:
    def seeds(count: int) -> str:  # one token per seed id: a long list literal
        return "{ recommendations(seedSongIds: [" + ' "x"' * count + "]) { score } }"

    # Under the limit, the document is parsed and reaches the resolver (which wants a login).
    assert codes(await client.execute(seeds(1900))) == ["UNAUTHENTICATED"]
    body = await client.execute(seeds(2100))
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert "tokens" in body["errors"][0]["message"]


async def test_deeply_nested_document_is_a_parse_error_not_a_crash(
    client: GraphQLClient,
) -> None:
    levels = 600
    query = "{ __schema { types { " + "ofType { " * levels + "name" + " }" * levels + " } } }"
    body = await client.execute(query)
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]


@pytest.mark.parametrize(
    "query",
    [
        "{ genres { " + "name " * 1900 + "} }",  # field duplication: O(n^2) merging checks
        "{ genres { name " + "@skip(if: false) " * 280 + "} }",  # directive overloading
    ],
)
async def test_duplication_and_directive_overloading_stay_cheap(
    client: GraphQLClient, query: str
) -> None:
    started = time.perf_counter()
    body = await client.execute(query)
    assert time.perf_counter() - started < 1.5
    assert body["errors"] and set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_batched_requests_are_refused(client: GraphQLClient) -> None:
    batch = [{"query": "{ genres { name } }"}] * 2
    response = await client.http.post("/graphql", json=batch)
    assert response.status_code == 400
    assert "Batching is not enabled" in response.text


async def test_body_size_limit(client: GraphQLClient) -> None:
    padding = "x" * 90_000  # under the limit: a legal request with a long (unused) variable
    ok = await client.http.post(
        "/graphql", json={"query": "{ genres { name } }", "variables": {"pad": padding}}
    )
    assert ok.status_code == 200
    big = {"query": "{ genres { name } }", "variables": {"pad": "x" * 200_000}}
    declared = await client.http.post("/graphql", json=big)
    assert declared.status_code == 413
    assert codes(declared.json()) == ["PAYLOAD_TOO_LARGE"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"query": "{ genres { name } }", "variables": {"pad": "'
        for _ in range(50):
            yield b"x" * 10_000
        yield b'"}}'

    streamed = await client.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    "payload",
    [
        # Each of these was a 500: the persisted-query hash, the "unknown operation" message.
        {
            "query": "{ __typename }\ud800",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
        },
        {"query": "{ __typename }", "operationName": "\ud800"},
        {
            "query": "query($s: String) { songs(search: $s) { totalCount } }",
            "variables": {"s": "\udc00"},
        },
        {"query": "{ genres { name } }", "variables": {"\ud800": 1}},
    ],
)
async def test_lone_surrogates_are_bad_input_not_a_crash(
    client: GraphQLClient, payload: dict[str, Any]
) -> None:
    body = json.dumps(payload)  # ASCII-escaped: "\ud800" as an attacker's raw JSON has it
    response = await client.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_escaped_surrogate_pairs_are_fine(client: GraphQLClient) -> None:
    body = json.dumps(
        {
            "query": "query($s: String) { songs(search: $s) { totalCount } }",
            "variables": {"s": "🎵"},
        }
    )
    assert "\\ud83c\\udfb5" in body
    response = await client.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200 and response.json()["data"]["songs"]["totalCount"] == 0


async def test_one_password_check_per_request(client: GraphQLClient) -> None:
    account = await new_account(client)
    login = 'login(email: "{email}", password: "{password}") {{ accessToken }}'
    right = login.format(email=account.email, password=PASSWORD)
    body = await client.execute(f"mutation {{ a: {right} b: {right} }}")
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["b"], "TOO_MANY_REQUESTS")
    ]
    register = (
        'register(input: {email: "EMAIL", password: "long enough phrase", displayName: "x"})'
        " { accessToken }"
    )
    first, second = (register.replace("EMAIL", f"r{i}@example.com") for i in (1, 2))
    two = f"mutation {{ a: {first} b: {second} }}"
    assert codes(await client.execute(two)) == ["TOO_MANY_REQUESTS"]


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    client: GraphQLClient, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = live_server.app.state.services.browser

    def broken() -> None:
        raise RuntimeError("mongodb://admin:hunter2@db.internal failed")

    monkeypatch.setattr(browser, "genre_counts", broken)
    with capture_logs() as logs:
        response = await client.http.post("/graphql", json={"query": "{ genres { name } }"})
    body = response.json()
    assert response.status_code == 200
    assert body["errors"] == [
        {
            "message": "Unexpected error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["genres"],
            "extensions": {
                "code": "INTERNAL_SERVER_ERROR",
                "requestId": response.headers["x-request-id"],
            },
        }
    ]
    assert "hunter2" not in response.text and "Traceback" not in response.text
    logged = [e for e in logs if e.get("request_id") == response.headers["x-request-id"]]
    assert logged and logged[0]["log_level"] == "error" and logged[0].get("exc_info")


async def test_introspection_and_suggestions_are_available_in_development(
    client: GraphQLClient,
) -> None:
    """GraphiQL's own introspection query must fit every limit, or development breaks."""
    body = await client.execute(get_introspection_query(descriptions=True))
    assert not body.get("errors") and body["data"]["__schema"]["queryType"]["name"] == "Query"
    typo = await client.execute("{ genres { nmae } }")
    assert "Did you mean 'name'?" in typo["errors"][0]["message"]
    variable = await client.execute(
        "query($m: Mood) { recommendations(mood: $m) { score } }", {"m": "HAPY"}
    )
    assert "Did you mean" in variable["errors"][0]["message"]  # what production cuts
