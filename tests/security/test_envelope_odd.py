"""Odd envelopes and odd input: every refusal is a GraphQL-shaped JSON body with a code, a
request id and the security headers; cursors, CSRF and names refuse what they cannot hold.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import GraphQLClient
from tests.security.conftest import codes, new_account

SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "cache-control")


def _refusal(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 500, (response.status_code, response.text[:200])
    assert response.headers.get("x-request-id"), response.headers
    for header in SECURITY_HEADERS:
        assert header in response.headers, header
    body: dict[str, Any] = response.json()
    assert body["errors"] and all(e["extensions"]["code"] for e in body["errors"]), body
    return body


async def _raw(client: GraphQLClient, body: bytes) -> httpx.Response:
    return await client.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )


@pytest.mark.parametrize(
    "body",
    [
        # More digits than Python's int() converts (4,300): json.loads raised ValueError.
        b'{"query": "query($n: Int) { songs(first: $n) { totalCount } }", "variables": {"n": '
        + b"9" * 5000
        + b"}}",
        b'{"query": "{ __typename }", "extensions": {"x": ' + b"1" * 5000 + b"}}",
        # A surrogate written as raw UTF-8 bytes (not an escape): not valid UTF-8 at all.
        b'{"query": "{ __typename }", "operationName": "\xed\xa0\x80"}',
        b'{"query": "{ __typename \xed\xb0\x80 }", "extensions": {"persistedQuery": '
        b'{"version": 1, "sha256Hash": "' + b"0" * 64 + b'"}}}',
        b'{"query": "{ __typename }", "variables": {"\xed\xa0\x80": 1}}',
    ],
    ids=[
        "huge-int-variable",
        "huge-int-extension",
        "raw-surrogate-name",
        "raw-surrogate-apq",
        "raw-surrogate-key",
    ],
)
async def test_odd_json_is_a_graphql_refusal(client: GraphQLClient, body: bytes) -> None:
    response = await _raw(client, body)
    assert response.status_code == 400
    # Bytes that are not UTF-8 are not JSON text at all: refused like any unparsable body.
    expected = "BAD_REQUEST" if b"\xed" in body else "BAD_USER_INPUT"
    assert codes(_refusal(response)) == [expected]


async def test_a_big_number_that_python_can_hold_is_a_plain_bad_int(client: GraphQLClient) -> None:
    """Under the digit limit, a huge number is just a value GraphQL's Int refuses."""
    body = (
        b'{"query": "query($n: Int) { songs(first: $n) { totalCount } }", "variables": {"n": '
        + b"9" * 100
        + b"}}"
    )
    answer = _refusal(await _raw(client, body))
    assert codes(answer) == ["BAD_USER_INPUT"]


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o1:{offset}".encode()).decode()


@pytest.mark.parametrize("field", ["myHistory", "myPlaylists", "myLikedSongs", "songs", "artists"])
@pytest.mark.parametrize("offset", [2**63, 10**30, 10**6])
async def test_crafted_cursors_are_bad_input(
    client: GraphQLClient, field: str, offset: int
) -> None:
    account = await new_account(client)
    body = await client.execute(
        f"query($a: String) {{ {field}(first: 2, after: $a) {{ totalCount }} }}",
        {"a": _cursor(offset)},
        token=account.access_token,
    )
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "after"


async def test_a_cursor_inside_the_list_still_works(client: GraphQLClient) -> None:
    body = await client.data(
        "query($a: String) { songs(first: 2, after: $a) { edges { cursor } } }", {"a": _cursor(3)}
    )
    assert len(body["songs"]["edges"]) == 2


@pytest.mark.parametrize(
    "query_string",
    [
        "%71uery=%7B__typename%7D",  # "query", percent-encoded
        "qu%65ry=%7B__typename%7D",
        "%65xtensions=%7B%7D&%71uery=%7B__typename%7D",
        "query%3D=x&%71uery=%7B__typename%7D",
    ],
)
async def test_csrf_prevention_decodes_parameter_names(
    client: GraphQLClient, query_string: str
) -> None:
    response = await client.http.get(f"/graphql?{query_string}")
    assert response.status_code == 400
    assert codes(_refusal(response)) == ["CSRF_PREVENTED"]
    allowed = await client.http.get(
        f"/graphql?{query_string}", headers={"apollo-require-preflight": "1"}
    )
    assert allowed.json()["data"] == {"__typename": "Query"}


NAMES = [
    "nul\x00name",
    "bidi \u202etxt.exe",
    "bell\x07",
    "isolate \u2066x\u2069",
    "line\u2028break",
]


@pytest.mark.parametrize("name", NAMES)
async def test_names_refuse_control_and_bidi_characters(client: GraphQLClient, name: str) -> None:
    account = await new_account(client)
    playlist = await client.execute(
        "mutation($n: String!) { createPlaylist(input: {name: $n}) { id } }",
        {"n": name},
        token=account.access_token,
    )
    assert codes(playlist) == ["BAD_USER_INPUT"], playlist
    assert playlist["errors"][0]["extensions"]["field"] == "name"
    display = await client.execute(
        "mutation($n: String!) { updateMe(input: {displayName: $n}) { id } }",
        {"n": name},
        token=account.access_token,
    )
    assert codes(display) == ["BAD_USER_INPUT"], display
    assert display["errors"][0]["extensions"]["field"] == "displayName"
    renamed = await client.execute(
        "mutation($n: String!) { updateMe(input: {displayName: $n}) { displayName } }",
        {"n": "Asha Bhosle ✨ 안녕 میرا"},
        token=account.access_token,
    )
    assert renamed["data"]["updateMe"]["displayName"] == "Asha Bhosle ✨ 안녕 میرا"
