"""A request refused before GraphQL runs still answers in GraphQL's error shape.

GraphQL over HTTP: a request error has `errors` and no `data`, a 4xx status, and the media
type the client accepts (application/json, or application/graphql-response+json when asked
for). Each refusal carries its code, the request id (also in X-Request-ID) and the same
security headers as any other answer.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LiveServer

GRAPHQL_RESPONSE = "application/graphql-response+json"
CASES = [
    # (what is sent, status, code)
    ({"content": b'{"query": "{ songs(first: 2) { edges', "json": True}, 400, "BAD_REQUEST"),
    ({"content": b"{not json", "json": True}, 400, "BAD_REQUEST"),
    ({"content": b'[{"query": "{ __typename }"}]', "json": True}, 400, "BAD_REQUEST"),
    (
        {"content": b'{"query": "{ __typename }", "variables": [1]}', "json": True},
        400,
        "BAD_REQUEST",
    ),
    ({"content": b"<query/>", "type": "application/xml"}, 400, "BAD_REQUEST"),
    ({"content": b"{ __typename }", "type": "text/plain"}, 400, "CSRF_PREVENTED"),
    (
        {"method": "PUT", "content": b'{"query": "{ __typename }"}', "json": True},
        405,
        "METHOD_NOT_ALLOWED",
    ),
    ({"method": "DELETE"}, 405, "METHOD_NOT_ALLOWED"),
    (
        {"content": b'{"query": "{ __typename }"}', "json": True, "accept": "text/html"},
        406,
        "NOT_ACCEPTABLE",
    ),
    ({"content": b'{"query": "' + b"a" * 200_000 + b'"}', "json": True}, 413, "PAYLOAD_TOO_LARGE"),
]


async def send(
    live_server: LiveServer, case: dict[str, object], accept: str | None
) -> httpx.Response:
    headers = {}
    if case.get("json"):
        headers["content-type"] = "application/json"
    if case.get("type"):
        headers["content-type"] = str(case["type"])
    if accept or case.get("accept"):
        headers["accept"] = str(case.get("accept") or accept)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        return await http.request(
            str(case.get("method", "POST")),
            "/graphql",
            content=case.get("content"),  # type: ignore[arg-type]
            headers=headers,
        )


@pytest.mark.parametrize("accept", [None, GRAPHQL_RESPONSE])
@pytest.mark.parametrize(("case", "status", "code"), CASES)
async def test_every_refusal_is_a_graphql_error(
    live_server: LiveServer, case: dict[str, object], status: int, code: str, accept: str | None
) -> None:
    response = await send(live_server, case, accept)
    assert response.status_code == status, response.text
    expected_type = GRAPHQL_RESPONSE if accept and status != 406 else "application/json"
    assert response.headers["content-type"].split(";")[0] == expected_type
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["message"]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    if status == 405:
        assert response.headers["allow"] == "GET, POST"
