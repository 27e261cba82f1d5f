"""Anonymous catalog reads may be cached by a CDN for MADHUR_CATALOG_CACHE_SECONDS; anything
personal, authenticated, mutating or failed stays no-store."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from madhur_gql.config import Settings
from tests.conftest import GraphQLClient, LiveServer, make_settings, register_user

CATALOG = [
    "{ songs(first: 2) { edges { node { title likedByMe } } } }",
    "{ genres { name songCount } }",
    "{ artists(first: 2) { edges { node { name } } } }",
    "query Both { genres { name } songs(first: 1) { totalCount } }",
]
PERSONAL = [
    "{ me { id } }",
    "{ songs(first: 1) { totalCount } me { id } }",  # one personal field is enough
    "{ recommendations(first: 2) { score } }",
    "{ songs(first: 1000000) { totalCount } }",  # an error
    "{ ...Root } fragment Root on Query { genres { name } }",  # not looked into: not cached
]


@pytest.fixture(scope="module")
def settings(mongo_server: Any, database_name: str) -> Settings:
    return make_settings(mongo_server.uri, database_name, MADHUR_CATALOG_CACHE_SECONDS=45)


async def answer(
    live_server: LiveServer, query: str, *, token: str | None = None, get: bool = False
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        if get:  # as Apollo Client sends it, with the CSRF preflight header
            headers["apollo-require-preflight"] = "true"
            return await http.get("/graphql", params={"query": query}, headers=headers)
        return await http.post("/graphql", json={"query": query}, headers=headers)


@pytest.mark.parametrize("get", [False, True])
@pytest.mark.parametrize("query", CATALOG)
async def test_an_anonymous_catalog_read_is_public_for_the_configured_time(
    live_server: LiveServer, query: str, get: bool
) -> None:
    response = await answer(live_server, query, get=get)
    assert "errors" not in response.json()
    assert response.headers["cache-control"] == "public, max-age=45"
    assert response.headers["vary"] == "Authorization"


@pytest.mark.parametrize("query", PERSONAL)
async def test_anything_else_anonymous_stays_no_store(live_server: LiveServer, query: str) -> None:
    response = await answer(live_server, query)
    assert response.headers["cache-control"] == "no-store"


async def test_a_logged_in_catalog_read_stays_no_store(
    live_server: LiveServer, client: GraphQLClient
) -> None:
    token = (await register_user(client))["accessToken"]
    response = await answer(live_server, CATALOG[0], token=token)
    assert "errors" not in response.json()
    assert response.headers["cache-control"] == "no-store"
    mutation = 'mutation { login(email: "x@example.com", password: "not the one") { accessToken } }'
    assert (await answer(live_server, mutation)).headers["cache-control"] == "no-store"
