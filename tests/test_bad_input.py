"""Every bad input gets a GraphQL error with a code a client can branch on, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import GraphQLClient, error_codes, register_user

SONG = "query($id: ID!) { song(id: $id) { id title } }"
SONGS = "query($first: Int!, $after: String) { songs(first: $first, after: $after) { totalCount } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }"
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"


async def test_unknown_song_id_is_not_found(client: GraphQLClient) -> None:
    body = await client.execute(SONG, {"id": "0123456789abcdef01234567"})
    assert error_codes(body) == ["NOT_FOUND"]


@pytest.mark.parametrize("bad_id", ["nope", "", "0123456789abcdef0123456z", "1" * 100])
async def test_malformed_song_id_is_bad_input(client: GraphQLClient, bad_id: str) -> None:
    body = await client.execute(SONG, {"id": bad_id})
    assert error_codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("first", [0, -1, 101, 10**9])
async def test_first_out_of_range_is_bad_input(client: GraphQLClient, first: int) -> None:
    body = await client.execute(SONGS, {"first": first})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "between 1 and 100" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["field"] == "first"


async def test_first_beyond_32_bits_is_refused_by_the_type_system(client: GraphQLClient) -> None:
    body = await client.execute(SONGS, {"first": 10**12})
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_malformed_cursor_is_bad_input(client: GraphQLClient) -> None:
    body = await client.execute(SONGS, {"first": 5, "after": "not-a-cursor"})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "after"


async def test_wrong_password_and_unknown_email_look_the_same(client: GraphQLClient) -> None:
    await register_user(client, email="meera@example.com")
    wrong = await client.execute(LOGIN, {"e": "meera@example.com", "p": "not the password"})
    unknown = await client.execute(LOGIN, {"e": "nobody@example.com", "p": "not the password"})
    assert error_codes(wrong) == error_codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("email", "not-an-email", "valid email"),
        ("email", "two@@example.com", "valid email"),
        ("password", "short", "at least"),
        ("password", "1234567890", "too common"),
        ("password", "é" * 40, "at most 72 bytes"),
        ("displayName", "   ", "not empty"),
    ],
)
async def test_registration_input_is_validated(
    client: GraphQLClient, field: str, value: str, fragment: str
) -> None:
    registration = {"email": "new@example.com", "password": "a fine passphrase", "displayName": "N"}
    registration[field] = value
    body = await client.execute(REGISTER, {"i": registration})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert fragment in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_duplicate_email_is_a_conflict(client: GraphQLClient) -> None:
    await register_user(client, email="twice@example.com")
    body = await client.execute(
        REGISTER,
        {"i": {"email": "TWICE@example.com", "password": "another passphrase", "displayName": "T"}},
    )
    assert error_codes(body) == ["CONFLICT"]


@pytest.mark.parametrize(
    "header",
    ["Bearer not.a.jwt", "Bearer", "Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJub25lIn0.e30."],
)
async def test_invalid_tokens_are_unauthenticated(client: GraphQLClient, header: str) -> None:
    response = await client.http.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": header}
    )
    assert response.status_code == 200
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_missing_token_is_unauthenticated(client: GraphQLClient) -> None:
    assert error_codes(await client.execute("{ me { id } }")) == ["UNAUTHENTICATED"]


async def test_interaction_input_is_checked(client: GraphQLClient) -> None:
    token = (await register_user(client))["accessToken"]
    song_id = (await client.data("{ songs(first: 1) { edges { node { id } } } }"))["songs"][
        "edges"
    ][0]["node"]["id"]
    cases = [
        ({"songId": "0123456789abcdef01234567", "kind": "PLAY"}, "NOT_FOUND"),
        ({"songId": "bad", "kind": "PLAY"}, "BAD_USER_INPUT"),
        ({"songId": song_id, "kind": "RATING"}, "BAD_USER_INPUT"),
        ({"songId": song_id, "kind": "RATING", "rating": 9}, "BAD_USER_INPUT"),
        ({"songId": song_id, "kind": "PLAY", "rating": 3}, "BAD_USER_INPUT"),
        ({"songId": song_id, "kind": "DANCE"}, "BAD_USER_INPUT"),
    ]
    for interaction, code in cases:
        body = await client.execute(RECORD, {"i": interaction}, token=token)
        assert error_codes(body) == [code], (interaction, body)
    history = await client.execute("{ myHistory { totalCount } }", token=token)
    assert history["data"]["myHistory"]["totalCount"] == 0, "nothing was stored by bad input"


async def test_syntax_and_validation_errors_carry_codes(client: GraphQLClient) -> None:
    assert error_codes(await client.execute("{ songs(first: 1) { ")) == ["GRAPHQL_PARSE_FAILED"]
    assert error_codes(await client.execute("{ songs { nope } }")) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{}", b"[" * 50_000])
async def test_a_body_that_is_not_json_is_a_400(client: GraphQLClient, body: bytes) -> None:
    response = await client.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Unable to parse request body as JSON"
