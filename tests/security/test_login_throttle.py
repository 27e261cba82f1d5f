"""Login under attack: enumeration by message or by time, guessing, spraying, and getting
around the throttle with aliases in one document."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import pytest

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.documents import User
from madhur_gql.services.accounts.throttle import COLLECTION
from tests.conftest import GraphQLClient, make_settings
from tests.security.conftest import PASSWORD, codes, execute_ascii, new_account

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"


@pytest.fixture(scope="module")
def settings(mongo_server: EmbeddedMongo, database_name: str) -> Settings:
    # bcrypt cost 10 (~50 ms a check) so that a missing dummy hash would show in the timing;
    # 1 s locks so that the doubling can be watched; several checks per request allowed, so
    # that the aliased attack meets the per-account throttle itself.
    return make_settings(
        mongo_server.uri,
        database_name,
        MADHUR_BCRYPT_ROUNDS=10,
        MADHUR_LOGIN_LOCK_SECONDS=1,
        MADHUR_MAX_PASSWORD_CHECKS=20,
        MADHUR_LOGIN_MAX_FAILURES_PER_ADDRESS=10,
    )


async def _login(client: GraphQLClient, email: str, password: str) -> dict[str, Any]:
    return await client.execute(LOGIN, {"e": email, "p": password})


async def _clear_throttle() -> None:
    await User.get_pymongo_collection().database[COLLECTION].delete_many({})


async def test_unknown_email_and_wrong_password_look_the_same(client: GraphQLClient) -> None:
    account = await new_account(client)
    unknown = await _login(client, "nobody-" + account.email, PASSWORD)
    wrong = await _login(client, account.email, "not the password")
    assert codes(unknown) == codes(wrong) == ["UNAUTHENTICATED"]
    assert unknown["errors"][0]["message"] == wrong["errors"][0]["message"]
    assert unknown["data"] == wrong["data"] is None


async def test_unknown_email_and_wrong_password_take_similar_time(client: GraphQLClient) -> None:
    account = await new_account(client)
    timings: dict[str, list[float]] = {"unknown": [], "wrong": []}
    for i in range(8):
        for kind, email in (("unknown", f"nobody-{i}@example.com"), ("wrong", account.email)):
            await _clear_throttle()  # measure the password path, not a lock
            started = time.perf_counter()
            await _login(client, email, "not the password")
            timings[kind].append(time.perf_counter() - started)
    unknown, wrong = (statistics.median(timings[k]) for k in ("unknown", "wrong"))
    # Both run one bcrypt check at cost 10 (tens of ms); skipping it would be ~10x faster.
    assert 0.5 < unknown / wrong < 2.0, timings


async def test_repeated_failures_lock_the_account_with_growing_waits(
    client: GraphQLClient,
) -> None:
    account = await new_account(client)
    for _ in range(5):
        assert codes(await _login(client, account.email, "guess")) == ["UNAUTHENTICATED"]
    locked = await _login(client, account.email, PASSWORD)  # even the right password
    assert codes(locked) == ["TOO_MANY_REQUESTS"]
    assert locked["errors"][0]["extensions"]["retryAfter"] == 1
    await asyncio.sleep(1.1)
    assert codes(await _login(client, account.email, "guess")) == ["UNAUTHENTICATED"]
    second = await _login(client, account.email, "guess")
    assert second["errors"][0]["extensions"]["retryAfter"] == 2  # the lock doubled
    await asyncio.sleep(2.1)
    assert (await _login(client, account.email, PASSWORD))["data"]["login"]["accessToken"]
    # A success forgets the account's failures: one new mistake does not lock again.
    assert codes(await _login(client, account.email, "guess")) == ["UNAUTHENTICATED"]
    assert (await _login(client, account.email, PASSWORD))["data"]["login"]


async def test_parallel_guesses_cannot_outrun_the_throttle(client: GraphQLClient) -> None:
    """Twelve guesses at once: without counting attempts in flight, all twelve would pass
    the lock check before the first failure was recorded."""
    account = await new_account(client)
    bodies = await asyncio.gather(*(_login(client, account.email, f"g{i}") for i in range(12)))
    outcomes = sorted(code for body in bodies for code in codes(body))
    assert outcomes.count("UNAUTHENTICATED") <= 5, outcomes
    assert outcomes.count("TOO_MANY_REQUESTS") >= 7, outcomes
    assert codes(await _login(client, account.email, PASSWORD)) == ["TOO_MANY_REQUESTS"]


async def test_unknown_emails_lock_the_same_way(client: GraphQLClient) -> None:
    email = f"ghost-{uuid.uuid4().hex[:6]}@example.com"
    for _ in range(5):
        await _login(client, email, "guess")
    assert codes(await _login(client, email, "guess")) == ["TOO_MANY_REQUESTS"]


async def test_aliased_attempts_in_one_document_are_throttled(client: GraphQLClient) -> None:
    """Ten guesses in one document, the right password last. `login` is non-null, so the
    first failure ends the whole mutation (GraphQL's null propagation): each document is one
    guess, counted like any other, and the right password at a9 is never even tried."""
    account = await new_account(client)
    attempts = " ".join(
        f'a{i}: login(email: "{account.email}", password: "{PASSWORD if i == 9 else i}")'
        " { accessToken }"
        for i in range(10)
    )
    document = f"mutation {{ {attempts} }}"
    for _ in range(5):
        body = await client.execute(document)
        assert body["data"] is None
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
            (["a0"], "UNAUTHENTICATED")
        ]
    locked = await client.execute(document)
    assert [(e["path"], e["extensions"]["code"]) for e in locked["errors"]] == [
        (["a0"], "TOO_MANY_REQUESTS")
    ]
    assert codes(await _login(client, account.email, PASSWORD)) == ["TOO_MANY_REQUESTS"]


async def test_spraying_many_accounts_from_one_address_is_throttled(
    client: GraphQLClient,
) -> None:
    account = await new_account(client)
    for i in range(10):  # MADHUR_LOGIN_MAX_FAILURES_PER_ADDRESS: a new email each time
        body = await _login(client, f"spray-{i}-{uuid.uuid4().hex[:4]}@example.com", "Summer2025!")
        assert codes(body) == ["UNAUTHENTICATED"], i
    blocked = await _login(client, account.email, PASSWORD)
    assert codes(blocked) == ["TOO_MANY_REQUESTS"]
    assert blocked["errors"][0]["extensions"]["retryAfter"] >= 1


async def test_change_password_and_delete_me_are_throttled_too(client: GraphQLClient) -> None:
    account = await new_account(client)
    change = (
        'mutation { changePassword(current: "guess", new: "a new long passphrase")'
        " { accessToken } }"
    )
    for _ in range(5):
        body = await client.execute(change, token=account.access_token)
        assert codes(body) == ["UNAUTHENTICATED"]
    body = await client.execute(
        'mutation { deleteMe(password: "correct horse battery") }', token=account.access_token
    )
    assert codes(body) == ["TOO_MANY_REQUESTS"]


async def test_malformed_credentials_are_ordinary_failures(client: GraphQLClient) -> None:
    for email, password in (
        ("not an email", PASSWORD),
        ("x" * 10_000 + "@example.com", PASSWORD),
        ("someone@example.com", ""),
        ("", ""),
    ):
        body = await execute_ascii(client, LOGIN, {"e": email, "p": password})
        assert codes(body) == ["UNAUTHENTICATED"], email[:20]


async def test_probing_registration_for_taken_emails_is_throttled(
    client: GraphQLClient,
) -> None:
    """ "An account with this email already exists" answers whether someone has an account:
    after 10 such answers (MADHUR_REGISTER_MAX_CONFLICTS) the address is locked."""
    taken = [(await new_account(client)).email for _ in range(3)]
    register = (
        "mutation($e: String!) { register(input: {email: $e, password: "
        '"a fine long passphrase", displayName: "P"}) { accessToken } }'
    )
    for i in range(10):
        body = await client.execute(register, {"e": taken[i % 3]})
        assert codes(body) == ["CONFLICT"], i
    for _ in range(3):  # locked after the 10th; a slow machine may see the 1 s lock expire
        blocked = await client.execute(register, {"e": f"new-{uuid.uuid4().hex[:6]}@example.com"})
        if codes(blocked) == ["TOO_MANY_REQUESTS"]:
            break
    assert codes(blocked) == ["TOO_MANY_REQUESTS"]  # even for an email that is free
    assert blocked["errors"][0]["extensions"]["retryAfter"] >= 1
