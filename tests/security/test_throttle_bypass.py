"""Throttles that hold: forwarded addresses are believed only from configured proxies, a
stranger's wrong passwords cannot lock the owner out, and registration is not free.

Two servers share this module's database: one with the defaults (no trusted proxy), one
that trusts 127.0.0.1 as its proxy, so the test can speak from many client addresses.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.documents import User
from madhur_gql.services.accounts.throttle import COLLECTION
from tests.conftest import GraphQLClient, another_server, make_settings
from tests.security.conftest import PASSWORD, codes, new_account

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
REGISTER = (
    "mutation($e: String!) { register(input: {email: $e, password: "
    '"correct horse battery", displayName: "R"}) { accessToken } }'
)


@pytest.fixture(scope="module")
def settings(mongo_server: EmbeddedMongo, database_name: str) -> Settings:
    return make_settings(
        mongo_server.uri,
        database_name,
        MADHUR_LOGIN_LOCK_SECONDS=60,
        MADHUR_REGISTER_MAX_PER_ADDRESS=5,
    )


@pytest.fixture(scope="module")
async def behind_proxy(settings: Settings) -> AsyncIterator[GraphQLClient]:
    """The same app behind a proxy at 127.0.0.1 (MADHUR_FORWARDED_ALLOW_IPS)."""
    async with (
        another_server(
            settings,
            MADHUR_FORWARDED_ALLOW_IPS="127.0.0.1",
            MADHUR_LOGIN_LOCK_SECONDS=60,
            MADHUR_REGISTER_MAX_PER_ADDRESS=5,
        ) as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
    ):
        yield GraphQLClient(http)


async def _from(
    client: GraphQLClient, address: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"x-forwarded-for": address},
    )
    assert response.status_code == 200
    return dict(response.json())


async def _clear() -> None:
    await User.get_pymongo_collection().database[COLLECTION].delete_many({})


async def test_forwarded_for_is_not_believed_by_default(client: GraphQLClient) -> None:
    """Twenty wrong guesses from "twenty addresses" are twenty from one: the address locks."""
    await _clear()
    victim = await new_account(client)
    for i in range(20):
        email = f"spray-{i}-{uuid.uuid4().hex[:4]}@example.com"
        body = await _from(client, f"192.0.2.{i}", LOGIN, {"e": email, "p": "Summer2025!"})
        assert codes(body) == ["UNAUTHENTICATED"], i
    blocked = await _from(client, "192.0.2.99", LOGIN, {"e": victim.email, "p": PASSWORD})
    assert codes(blocked) == ["TOO_MANY_REQUESTS"]


async def test_forwarded_for_is_believed_from_a_configured_proxy(
    behind_proxy: GraphQLClient,
) -> None:
    await _clear()
    victim = await new_account(behind_proxy)
    for i in range(20):
        email = f"spray-{i}-{uuid.uuid4().hex[:4]}@example.com"
        await _from(behind_proxy, "192.0.2.1", LOGIN, {"e": email, "p": "Summer2025!"})
    assert codes(
        await _from(behind_proxy, "192.0.2.1", LOGIN, {"e": victim.email, "p": PASSWORD})
    ) == ["TOO_MANY_REQUESTS"]
    ok = await _from(behind_proxy, "192.0.2.2", LOGIN, {"e": victim.email, "p": PASSWORD})
    assert ok["data"]["login"]["accessToken"]  # another client behind the same proxy


async def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(
    behind_proxy: GraphQLClient,
) -> None:
    await _clear()
    admin = await new_account(behind_proxy)
    home = "198.51.100.10"
    assert (await _from(behind_proxy, home, LOGIN, {"e": admin.email, "p": PASSWORD}))["data"]
    attacker = "203.0.113.66"
    for i in range(6):
        await _from(behind_proxy, attacker, LOGIN, {"e": admin.email, "p": f"guess {i}"})
    # The attacker is slowed down on this account...
    slowed = await _from(behind_proxy, attacker, LOGIN, {"e": admin.email, "p": PASSWORD})
    assert codes(slowed) == ["TOO_MANY_REQUESTS"]
    # ...the owner, from their usual address or a new one, is not.
    for address in (home, "198.51.100.11"):
        body = await _from(behind_proxy, address, LOGIN, {"e": admin.email, "p": PASSWORD})
        assert body["data"] and body["data"]["login"]["accessToken"], (address, body)


async def test_guessing_from_many_addresses_is_slowed_for_strangers_only(
    behind_proxy: GraphQLClient,
) -> None:
    """Per account, the throttle grows progressively over every address, but an address
    that has logged in to the account before keeps its own (per account and address) count."""
    await _clear()
    owner = await new_account(behind_proxy)
    home = "198.51.100.20"
    assert (await _from(behind_proxy, home, LOGIN, {"e": owner.email, "p": PASSWORD}))["data"]
    refused = 0
    for i in range(60):  # a botnet: three guesses from each of twenty addresses
        body = await _from(
            behind_proxy, f"203.0.113.{i // 3}", LOGIN, {"e": owner.email, "p": f"guess {i}"}
        )
        refused += codes(body) == ["TOO_MANY_REQUESTS"]
    assert refused > 10  # the account-wide throttle kicked in for strangers
    stranger = await _from(behind_proxy, "203.0.113.200", LOGIN, {"e": owner.email, "p": PASSWORD})
    assert codes(stranger) == ["TOO_MANY_REQUESTS"]
    assert (await _from(behind_proxy, home, LOGIN, {"e": owner.email, "p": PASSWORD}))["data"]


async def test_registration_is_throttled_per_address(behind_proxy: GraphQLClient) -> None:
    await _clear()
    for i in range(5):  # MADHUR_REGISTER_MAX_PER_ADDRESS
        email = f"farm-{i}-{uuid.uuid4().hex[:6]}@example.com"
        body = await _from(behind_proxy, "192.0.2.50", REGISTER, {"e": email})
        assert not body.get("errors"), body
    refused = await _from(
        behind_proxy, "192.0.2.50", REGISTER, {"e": f"farm-x-{uuid.uuid4().hex[:6]}@example.com"}
    )
    assert codes(refused) == ["TOO_MANY_REQUESTS"]
    assert refused["errors"][0]["extensions"]["retryAfter"] >= 1
    other = await _from(
        behind_proxy, "192.0.2.51", REGISTER, {"e": f"farm-y-{uuid.uuid4().hex[:6]}@example.com"}
    )
    assert not other.get("errors")
