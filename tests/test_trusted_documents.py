"""Trusted documents: with MADHUR_TRUSTED_DOCUMENTS set, only the listed operations run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from madhur_gql.config import Settings
from madhur_gql.graphql.trusted_documents import TrustedDocuments
from tests.conftest import LiveServer, make_settings
from tools import trusted_documents

ROOT = Path(__file__).resolve().parents[1]
SONGS = (ROOT / "examples" / "operations" / "Songs.graphql").read_text()
SONGS_ID = hashlib.sha256(SONGS.encode()).hexdigest()
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"


@pytest.fixture(scope="module")
def settings(mongo_server: Any, database_name: str) -> Settings:
    return make_settings(
        mongo_server.uri, database_name, MADHUR_TRUSTED_DOCUMENTS=str(trusted_documents.MANIFEST)
    )


def test_the_committed_manifest_lists_every_example_operation() -> None:
    expected = trusted_documents.manifest([trusted_documents.OPERATIONS])
    assert trusted_documents.MANIFEST.read_text() == expected, (
        "trusted-documents.json is out of date: run `make trusted-documents` and commit it"
    )
    names = {op["name"] for op in json.loads(expected)["operations"]}
    assert {"Songs", "Login", "Recommendations"} <= names


async def post(live_server: LiveServer, body: dict[str, Any], **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        return await http.post("/graphql", json=body, headers=headers)


async def test_a_listed_document_runs_as_text_however_it_is_spaced(
    live_server: LiveServer,
) -> None:
    squeezed = " ".join(line for line in SONGS.splitlines() if not line.startswith("#"))
    for text in (SONGS, squeezed):
        body = (await post(live_server, {"query": text, "variables": {"first": 2}})).json()
        assert "errors" not in body, body
        assert len(body["data"]["songs"]["edges"]) == 2


async def test_a_listed_document_runs_by_its_id_alone(live_server: LiveServer) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": SONGS_ID}}
    body = (await post(live_server, {"extensions": extensions, "variables": {"first": 1}})).json()
    assert len(body["data"]["songs"]["edges"]) == 1
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        response = await http.get(
            "/graphql",
            params={"extensions": json.dumps(extensions), "variables": '{"first": 1}'},
            headers={"apollo-require-preflight": "true"},
        )
    assert response.json()["data"]["songs"]["edges"]


@pytest.mark.parametrize(
    "query",
    [
        "{ __typename }",
        "{ __schema { types { name } } }",
        SONGS.replace("durationMs", "durationMs playCount"),  # one field more is another document
        "{ not graphql",
    ],
)
async def test_anything_else_is_refused_before_it_runs(live_server: LiveServer, query: str) -> None:
    response = await post(live_server, {"query": query}, accept="application/graphql-response+json")
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [NOT_IN_LIST]


async def test_automatic_persisted_queries_cannot_register_a_new_document(
    live_server: LiveServer,
) -> None:
    query = "{ genres { name } }"
    extensions = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}
    }
    registered = (await post(live_server, {"query": query, "extensions": extensions})).json()
    assert registered["errors"][0]["extensions"]["code"] == NOT_IN_LIST
    by_hash = (await post(live_server, {"extensions": extensions})).json()
    assert by_hash["errors"][0]["extensions"]["code"] == NOT_IN_LIST


def test_a_tampered_manifest_is_refused_at_start(tmp_path: Path) -> None:
    manifest = json.loads(trusted_documents.MANIFEST.read_text())
    manifest["operations"][0]["body"] += "\nquery Extra { me { email } }"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="not the body's sha256"):
        TrustedDocuments.load(path)
