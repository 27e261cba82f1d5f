"""Schemathesis' GraphQL mode against the running app: generated documents for every Query
and Mutation field, sent as anonymous, user and admin, must never produce a server error
(HTTP 5xx) or a masked unexpected error (INTERNAL_SERVER_ERROR, "Unexpected error.").

Schemathesis is synchronous, so it runs in a worker thread while the test's event loop
keeps serving the app. Examples are bounded and derandomized: the same documents each run.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pymongo import MongoClient

from tests.conftest import LiveServer
from tests.security.conftest import PASSWORD

EXAMPLES_PER_OPERATION = int(os.environ.get("MADHUR_FUZZ_EXAMPLES", "6"))  # more: a deeper run


def _problems(response: Any, label: str, who: str, query: str) -> list[str]:
    where = f"{label} as {who}: {query[:300]}"
    if response.status_code >= 500:
        return [f"HTTP {response.status_code} for {where}"]
    try:
        body = response.json()
    except ValueError:
        return [f"non-JSON {response.status_code} for {where}"]
    found = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code == "INTERNAL_SERVER_ERROR" or error.get("message") == "Unexpected error.":
            found.append(f"unexpected error for {where}")
        elif code is None:
            found.append(f"error without a code ({error.get('message')!r}) for {where}")
    return found


def _callers(url: str, users: Any) -> dict[str, str | None]:
    """Fresh accounts for each operation: a fuzzed logoutEverywhere or changePassword must
    not turn the rest of the run anonymous."""
    tokens: dict[str, str | None] = {"anonymous": None}
    for role in ("user", "admin"):
        email = f"fuzz-{role}-{uuid.uuid4().hex[:10]}@example.com"
        response = requests.post(
            url,
            json={
                "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
                "variables": {"i": {"email": email, "password": PASSWORD, "displayName": "F"}},
            },
            timeout=30,
        )
        tokens[role] = response.json()["data"]["register"]["accessToken"]
        if role == "admin":
            users.update_one({"email": email}, {"$set": {"role": "ADMIN"}})
    return tokens


def fuzz(url: str, mongodb_uri: str, database: str) -> tuple[Counter[str], list[str]]:
    schema = schemathesis.graphql.from_url(url)
    problems: list[str] = []
    outcomes: Counter[str] = Counter()
    with MongoClient(mongodb_uri) as mongo:
        for result in schema.get_all_operations():
            operation = result.ok()
            tokens = _callers(url, mongo[database]["users"])
            exercise(operation, tokens, outcomes, problems)
    return outcomes, problems


def exercise(
    operation: Any, tokens: dict[str, str | None], outcomes: Counter[str], problems: list[str]
) -> None:
    """Bounded, derandomized examples of one operation, each sent by every caller."""

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        for who, token in tokens.items():
            headers = {"authorization": f"Bearer {token}"} if token else {}
            response = case.call(headers=headers, timeout=30)
            outcomes[_outcome(response)] += 1
            problems.extend(_problems(response, operation.label, who, str(case.body)))

    check()


def _outcome(response: Any) -> str:
    try:
        errors = response.json().get("errors")
    except ValueError:
        return f"HTTP {response.status_code}"
    return str((errors[0].get("extensions") or {}).get("code")) if errors else "ok"


# Schemathesis' GraphQL strategy draws from the `random` module; Hypothesis seeds it per
# example, so runs stay reproducible, but it warns about it on every run.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_fuzzed_documents_never_crash_the_server(
    live_server: LiveServer,
) -> None:
    settings = live_server.settings
    assert settings.mongodb_uri
    outcomes, problems = await asyncio.to_thread(
        fuzz, f"{live_server.url}/graphql", settings.mongodb_uri, settings.database_name
    )
    assert sum(outcomes.values()) >= 3 * 30, outcomes  # every operation, by every caller
    # The documents get past validation to the resolvers, and a fair share succeeds.
    total = sum(outcomes.values())
    assert outcomes["ok"] >= 50 and outcomes["GRAPHQL_VALIDATION_FAILED"] < total / 10
    assert not problems, "\n".join(problems[:30])


# --- the HTTP envelope ---------------------------------------------------------------------
# Schemathesis fuzzes documents and variables with valid text; the request around them
# (operationName, extensions, odd JSON types, lone surrogates) is where hand probing found
# 500s. This fuzzes that envelope.

TEXT = st.text(max_size=12) | st.builds(
    # Hypothesis' text never holds lone surrogates; JSON can ("\ud800"), so add them.
    lambda text, surrogate: text + surrogate,
    st.text(max_size=6),
    st.sampled_from(["\ud800", "\udc00", "\udfff", "\ud83c"]),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
DOCUMENTS = st.sampled_from(
    [
        "{ __typename }",
        "query A { __typename } query B { genres { name } }",
        "query($n: Int!) { songs(first: $n) { totalCount } }",
        "mutation { logoutEverywhere }",
        "subscription { x }",
        "",
    ]
)
ENVELOPES = st.fixed_dictionaries(
    {},
    optional={
        "query": DOCUMENTS | TEXT | JSON,
        "variables": JSON,
        "operationName": st.sampled_from(["A", "B"]) | TEXT | JSON,
        "extensions": st.fixed_dictionaries(
            {"persistedQuery": st.fixed_dictionaries({"version": JSON, "sha256Hash": JSON})}
        )
        | JSON,
    },
)


def fuzz_envelopes(url: str, examples: int) -> list[str]:
    problems: list[str] = []

    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(envelope=ENVELOPES)
    @example(envelope={"query": "{ __typename }", "operationName": "\ud800"})  # was a 500
    @example(  # was a 500: the persisted-query hash of a query that UTF-8 cannot hold
        envelope={
            "query": "{ __typename }\ud800",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
        }
    )
    def check(envelope: dict[str, Any]) -> None:
        body = json.dumps(envelope)  # ASCII-escaped, as raw attacker JSON would be
        response = requests.post(
            url, data=body, headers={"content-type": "application/json"}, timeout=30
        )
        if response.status_code >= 500 or "Unexpected error." in response.text:
            problems.append(f"{response.status_code} for {body[:300]}")

    check()
    return problems


async def test_fuzzed_request_envelopes_never_crash_the_server(live_server: LiveServer) -> None:
    problems = await asyncio.to_thread(
        fuzz_envelopes, f"{live_server.url}/graphql", 25 * EXAMPLES_PER_OPERATION
    )
    assert not problems, "\n".join(problems[:20])
