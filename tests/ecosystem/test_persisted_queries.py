"""Automatic persisted queries, driven the way Apollo Client's persisted-queries link does it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from madhur_gql.graphql.persisted_queries import PersistedQueryCache, sha256_hex
from tests.conftest import LiveServer, error_codes
from tests.ecosystem.conftest import run

SONGS = "query ApqSongs($search: String) { songs(first: 2, search: $search) { totalCount } }"
VARIABLES = {"search": "sheeran"}
# What Apollo Client sends on every request; it also satisfies the CSRF check on GETs.
HEADERS = {"content-type": "application/json"}


def apq(query_hash: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": query_hash}}


async def post(
    http: httpx.AsyncClient, query: str | None, query_hash: str, **extra: Any
) -> httpx.Response:
    body = {"variables": VARIABLES, "extensions": apq(query_hash), **extra}
    if query is not None:
        body["query"] = query
    return await http.post("/graphql", json=body)


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, headers=HEADERS) as client:
        yield client


async def test_the_apollo_dance_miss_register_then_hash_only(http: httpx.AsyncClient) -> None:
    query = SONGS + " # dance"
    query_hash = sha256_hex(query)
    miss = await post(http, None, query_hash)
    assert miss.status_code == 200
    assert error_codes(miss.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert miss.json()["data"] is None

    registered = await post(http, query, query_hash)
    assert registered.json()["data"]["songs"]["totalCount"] > 0

    hit = await post(http, None, query_hash)
    assert hit.json() == registered.json()


async def test_a_hash_only_get_runs_a_registered_query(http: httpx.AsyncClient) -> None:
    query = SONGS + " # get"
    query_hash = sha256_hex(query)
    params = {"variables": json.dumps(VARIABLES), "extensions": json.dumps(apq(query_hash))}
    miss = await http.get("/graphql", params=params)
    assert error_codes(miss.json()) == ["PERSISTED_QUERY_NOT_FOUND"]  # not the GraphiQL page

    registered = await http.get("/graphql", params={**params, "query": query})
    hit = await http.get("/graphql", params=params)
    assert hit.status_code == 200
    assert hit.json() == registered.json()
    assert hit.json()["data"]["songs"]["totalCount"] > 0


async def test_a_miss_is_a_400_for_graphql_response_json(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        json={"extensions": apq(sha256_hex("{ __typename } # never sent"))},
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    assert "data" not in response.json()
    assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_query_under_a_wrong_hash_is_refused_and_not_stored(
    http: httpx.AsyncClient,
) -> None:
    claimed = sha256_hex("query Innocent { __typename }")
    refused = await post(http, "query Planted { songs(first: 1) { totalCount } }", claimed)
    assert error_codes(refused.json()) == ["BAD_USER_INPUT"]
    assert refused.json()["errors"][0]["extensions"]["reason"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert error_codes((await post(http, None, claimed)).json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_other_protocol_versions_are_not_supported(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"extensions": apq(sha256_hex(SONGS), 2)})
    assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]


async def test_a_persisted_mutation_does_not_run_over_get(http: httpx.AsyncClient) -> None:
    mutation = 'mutation { logout(refreshToken: "x") }'
    query_hash = sha256_hex(mutation)
    await post(http, mutation, query_hash)  # registers it (and runs it, over POST)
    response = await http.get("/graphql", params={"extensions": json.dumps(apq(query_hash))})
    assert 400 <= response.status_code < 500
    assert "logout" not in response.text


def test_the_cache_drops_the_least_recently_used_query() -> None:
    cache = PersistedQueryCache(max_size=2)
    cache.put("a", "{ a }")
    cache.put("b", "{ b }")
    assert cache.get("a") == "{ a }"  # now b is the oldest
    cache.put("c", "{ c }")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("{ a }", None, "{ c }")
    assert len(cache) == 2


async def test_apollo_clients_persisted_queries_link(live_server: LiveServer, node: str) -> None:
    done = await run(node, "scripts/apollo-apq.mjs", f"{live_server.url}/graphql")
    assert done.returncode == 0, done.stderr
    seen = done.json()
    assert [(r["method"], r["hasQuery"]) for r in seen["requests"]] == [
        ("GET", False),  # hash only: not found yet
        ("POST", True),  # the link retries with the query, which registers it
        ("GET", False),  # hash only: found
    ]
    assert seen["first"] == seen["second"]
    assert seen["first"]["songs"]["totalCount"] > 0
