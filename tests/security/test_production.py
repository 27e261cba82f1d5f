"""A production-mode server: what a stranger learns about the schema (nothing it did not
already know), what an error reveals (nothing), and what a cross-site page can make a
browser do (nothing that runs an operation)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from tests.conftest import GraphQLClient, LiveServer, make_settings
from tests.security.conftest import codes, new_account

ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def settings(mongo_server: EmbeddedMongo, database_name: str) -> Settings:
    return make_settings(
        mongo_server.uri,
        database_name,
        MADHUR_ENV="production",
        MADHUR_MAX_QUERY_DEPTH=3,
        MADHUR_CORS_ORIGINS=[ORIGIN],
    )


def test_production_refuses_a_missing_or_short_key(mongo_server: EmbeddedMongo) -> None:
    for secret in ("change-me", "short-secret"):
        with pytest.raises(ValidationError, match="MADHUR_JWT_SECRET"):
            make_settings(mongo_server.uri, "x", MADHUR_ENV="production", MADHUR_JWT_SECRET=secret)
    development = make_settings(mongo_server.uri, "x", MADHUR_JWT_SECRET="change-me")
    assert development.jwt_secret_generated and len(development.jwt_secret) >= 32


async def test_introspection_is_off(client: GraphQLClient) -> None:
    for query in (
        "{ __schema { types { name } } }",
        '{ __type(name: "User") { fields { name } } }',
        "{ ...F } fragment F on Query { __schema { queryType { name } } }",
    ):
        body = await client.execute(query)
        assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"} and body["data"] is None, query
    assert (await client.execute("{ __typename }"))["data"] == {"__typename": "Query"}


async def test_graphiql_is_off(client: GraphQLClient) -> None:
    page = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code in (400, 404) and "graphiql" not in page.text.lower()


@pytest.mark.parametrize(
    "query",
    [
        "{ genres { nmae } }",  # a field
        '{ song(idd: "1") { id } }',  # an argument
        "{ recommendations(mood: HAPY) { score } }",  # an enum value
        "{ songs { ...F } } fragment F on SongConection { totalCount }",  # a type
        "{ me { emial } }",
    ],
)
async def test_no_did_you_mean_suggestions(client: GraphQLClient, query: str) -> None:
    body = await client.execute(query)
    assert body["errors"], body
    for error in body["errors"]:
        assert "Did you mean" not in error["message"], error


async def test_no_suggestions_for_variable_values(client: GraphQLClient) -> None:
    account = await new_account(client)
    body = await client.execute(
        "query($m: Mood) { recommendations(mood: $m) { score } }",
        {"m": "HAPY"},
        token=account.access_token,
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "HAPY" in body["errors"][0]["message"]
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_depth_limit_counts_through_fragments(client: GraphQLClient) -> None:
    ok = await client.execute("{ songs(first: 1) { edges { node { id } } } }")
    assert not ok.get("errors"), ok
    for query in (
        "{ songs(first: 1) { edges { node { audioFeatures { energy } } } } }",
        "{ songs(first: 1) { ...E } } fragment E on SongConnection"
        " { edges { node { audioFeatures { energy } } } }",
        "{ ... on Query { songs(first: 1) { edges { node { audioFeatures { energy } } } } } }",
    ):
        body = await client.execute(query)
        assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"], body
        assert "exceeds maximum operation depth of 3" in body["errors"][0]["message"]


async def test_unexpected_errors_are_masked_in_production(
    client: GraphQLClient, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise KeyError("users.password_hash")

    monkeypatch.setattr(live_server.app.state.services.browser, "genre_counts", broken)
    response = await client.http.post("/graphql", json={"query": "{ genres { name } }"})
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    assert "password_hash" not in response.text


# --- CSRF and CORS ---------------------------------------------------------------------------

GENRES = "{ genres { name } }"


async def _post(
    client: GraphQLClient, content: str | bytes, content_type: str, **headers: str
) -> Any:
    return await client.http.post(
        "/graphql", content=content, headers={"content-type": content_type, **headers}
    )


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", '{"query": "mutation { logoutEverywhere }"}'),
        ("text/plain;charset=UTF-8", '{"query": "{ genres { name } }"}'),
        ("application/x-www-form-urlencoded", "query=mutation%20%7B%20logoutEverywhere%20%7D"),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="q"'),
        ("", '{"query": "{ genres { name } }"}'),
    ],
)
async def test_simple_requests_are_blocked_as_csrf(
    client: GraphQLClient, content_type: str, content: str
) -> None:
    response = await _post(client, content, content_type)
    assert response.status_code == 400
    assert codes(response.json()) == ["CSRF_PREVENTED"]
    # With a preflight header (which a cross-site page cannot add without CORS allowing
    # it), the CSRF check passes and Strawberry itself refuses the non-JSON body.
    preflighted = await _post(client, content, content_type, **{"apollo-require-preflight": "1"})
    assert preflighted.status_code == 400
    assert "CSRF" not in preflighted.text


async def test_json_posts_pass(client: GraphQLClient) -> None:
    for content_type in ("application/json", "application/json; charset=utf-8"):
        response = await _post(client, f'{{"query": "{GENRES}"}}', content_type)
        assert response.status_code == 200 and response.json()["data"]["genres"]


async def test_get_queries_need_a_preflight_header_and_never_mutate(
    client: GraphQLClient,
) -> None:
    account = await new_account(client)
    auth = {"authorization": f"Bearer {account.access_token}"}
    blocked = await client.http.get("/graphql", params={"query": GENRES})
    assert blocked.status_code == 400 and codes(blocked.json()) == ["CSRF_PREVENTED"]
    allowed = await client.http.get(
        "/graphql", params={"query": GENRES}, headers={"apollo-require-preflight": "1"}
    )
    assert allowed.status_code == 200 and allowed.json()["data"]["genres"]

    mutation = {"query": "mutation { logoutEverywhere }"}
    for headers in ({}, {"x-apollo-operation-name": "x"}):
        response = await client.http.get("/graphql", params=mutation, headers={**auth, **headers})
        assert response.status_code in (400, 405), response.text
    # The session is intact: no GET ran the mutation.
    assert (await client.execute("{ me { id } }", token=account.access_token))["data"]


async def test_cors_allows_only_the_configured_origin(client: GraphQLClient) -> None:
    def preflight(origin: str) -> Any:
        return client.http.options(
            "/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,authorization",
            },
        )

    good = await preflight(ORIGIN)
    assert good.status_code == 200
    assert good.headers["access-control-allow-origin"] == ORIGIN
    evil = await preflight("https://evil.example")
    assert evil.status_code == 400
    assert "access-control-allow-origin" not in evil.headers
    simple = await client.http.post(
        "/graphql", json={"query": GENRES}, headers={"origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in simple.headers


async def test_security_headers_on_answers_and_refusals(client: GraphQLClient) -> None:
    answered = await client.http.post("/graphql", json={"query": GENRES})
    refused = await _post(client, "{}", "text/plain")
    too_big = await client.http.post("/graphql", content=b"x" * 200_000)
    for response in (answered, refused, too_big):
        assert response.headers["x-content-type-options"] == "nosniff"
        # An anonymous catalog read may sit in a CDN briefly (tests/test_cache_hints.py).
        expected = "public, max-age=60" if response is answered else "no-store"
        assert response.headers["cache-control"] == expected
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
