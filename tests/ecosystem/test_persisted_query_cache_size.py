"""MADHUR_APQ_CACHE_SIZE bounds the persisted query cache of a running server."""

from __future__ import annotations

import httpx
import pytest

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.graphql.persisted_queries import sha256_hex
from tests.conftest import LiveServer, error_codes, make_settings


@pytest.fixture(scope="module")
def settings(mongo_server: EmbeddedMongo, database_name: str) -> Settings:
    return make_settings(mongo_server.uri, database_name, MADHUR_APQ_CACHE_SIZE=1)


async def hash_only(http: httpx.AsyncClient, query: str) -> dict[str, object]:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}
    body: dict[str, object] = (await http.post("/graphql", json={"extensions": extensions})).json()
    return body


async def test_registering_past_the_size_forgets_the_oldest(live_server: LiveServer) -> None:
    first, second = "{ __typename } # 1", "{ __typename } # 2"
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        for query in (first, second):
            extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}
            await http.post("/graphql", json={"query": query, "extensions": extensions})
        assert error_codes(await hash_only(http, first)) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert await hash_only(http, second) == {"data": {"__typename": "Query"}}
