"""GraphQL over HTTP: graphql-http's audits against the running server, and media types."""

from __future__ import annotations

import re

import httpx

from tests.conftest import LiveServer, error_codes
from tests.ecosystem.conftest import ROOT, run

DOC = ROOT / "docs" / "graphql-over-http.md"
RESPONSE_JSON = "application/graphql-response+json"


async def test_every_must_audit_passes_and_the_doc_lists_the_rest(
    live_server: LiveServer, node: str
) -> None:
    done = await run(node, "scripts/audit-graphql-http.mjs", f"{live_server.url}/graphql")
    assert done.returncode == 0, done.stderr
    audits = done.json()
    assert len(audits) > 50
    failed_musts = [a for a in audits if a["name"].startswith("MUST") and a["status"] != "ok"]
    assert failed_musts == []
    assert not [a for a in audits if a["status"] == "error"]
    not_ok = {a["id"] for a in audits if a["status"] != "ok"}
    documented = set(re.findall(r"^\| `([0-9A-F]{4})` \|", DOC.read_text(), re.MULTILINE))
    assert not_ok == documented, "update docs/graphql-over-http.md"


async def post(live_server: LiveServer, query: str, accept: str | None) -> httpx.Response:
    headers = {"accept": accept} if accept is not None else {}
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        return await http.post("/graphql", json={"query": query}, headers=headers)


async def test_asking_for_graphql_response_json_gets_it(live_server: LiveServer) -> None:
    response = await post(live_server, "{ __typename }", f"{RESPONSE_JSON}, application/json;q=0.9")
    assert response.headers["content-type"].startswith(RESPONSE_JSON)
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_legacy_clients_keep_application_json(live_server: LiveServer) -> None:
    for accept in (None, "*/*", "application/json"):
        response = await post(live_server, "{ __typename }", accept)
        assert response.headers["content-type"].startswith("application/json"), accept


async def test_a_request_error_is_400_without_data_only_for_the_new_type(
    live_server: LiveServer,
) -> None:
    new = await post(live_server, "{ songs(first: 1) { nope } }", RESPONSE_JSON)
    assert new.status_code == 400
    assert "data" not in new.json()
    assert error_codes(new.json()) == ["GRAPHQL_VALIDATION_FAILED"]

    legacy = await post(live_server, "{ songs(first: 1) { nope } }", "application/json")
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None


async def test_a_field_error_is_still_200_with_data(live_server: LiveServer) -> None:
    response = await post(live_server, "{ me { id } }", RESPONSE_JSON)
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_an_unacceptable_accept_is_406(live_server: LiveServer) -> None:
    response = await post(live_server, "{ __typename }", "text/csv")
    assert response.status_code == 406
