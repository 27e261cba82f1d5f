"""Helpers for the security tests: fresh throttle state, accounts of each role, raw requests."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from madhur_gql.documents import Role, User
from madhur_gql.services.accounts.throttle import COLLECTION
from tests.conftest import GraphQLClient, register_user

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
async def fresh_throttle(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test with a server starts with no failed logins on record (all share 127.0.0.1)."""
    if "client" in request.fixturenames or "live_server" in request.fixturenames:
        request.getfixturevalue("live_server")
        await User.get_pymongo_collection().database[COLLECTION].delete_many({})
    yield


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


async def new_account(client: GraphQLClient, role: Role = Role.USER) -> Account:
    email = f"sec-{uuid.uuid4().hex[:10]}@example.com"
    payload = await register_user(client, email=email, password=PASSWORD)
    if role is not Role.USER:
        await User.get_pymongo_collection().update_one(
            {"email": email}, {"$set": {"role": role.value}}
        )
    return Account(
        id=payload["user"]["id"],
        email=email,
        password=PASSWORD,
        access_token=payload["accessToken"],
        refresh_token=payload["refreshToken"],
    )


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def execute_ascii(
    client: GraphQLClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """Like `client.execute`, but JSON-escaped, so text UTF-8 cannot hold ("\\ud800") is sent
    exactly as an attacker's raw JSON would carry it."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables})
    response = await client.http.post("/graphql", content=body, headers=headers)
    assert response.status_code < 500, response.text  # 400 for text that is not Unicode
    result: dict[str, Any] = response.json()
    return result
