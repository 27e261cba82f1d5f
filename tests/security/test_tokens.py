"""Access and refresh tokens under attack (RFC 8725 for the JWT, RFC 9700 for refresh).

Every forged or misused token must end in UNAUTHENTICATED on a field that needs a user,
never in data, and never in a server error.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from bson import ObjectId

from madhur_gql.auth.tokens import issue_access_token
from madhur_gql.documents import RefreshToken
from tests.conftest import TEST_SECRET, GraphQLClient, LiveServer
from tests.security.conftest import codes, new_account

ME = "{ me { id email } }"
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(live_server: LiveServer, user_id: str, **changes: Any) -> dict[str, Any]:
    settings = live_server.settings
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": user_id,
        "role": "USER",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": "x" * 32,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "typ": "access",
        "ver": 0,
        "sid": "a-session",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


async def _me(client: GraphQLClient, token: str) -> dict[str, Any]:
    return await client.execute(ME, token=token)


async def test_a_genuine_token_works(client: GraphQLClient, live_server: LiveServer) -> None:
    account = await new_account(client)
    forged_right = jwt.encode(
        _claims(live_server, account.id), TEST_SECRET, algorithm="HS256", headers={"typ": "at+jwt"}
    )
    for token in (account.access_token, forged_right):  # the control: the key is what matters
        assert (await _me(client, token))["data"]["me"]["id"] == account.id


def _forgeries(live_server: LiveServer, user_id: str) -> dict[str, str]:
    good = _claims(live_server, user_id)
    header = {"typ": "at+jwt"}

    def signed(claims: dict[str, Any], key: str = TEST_SECRET, alg: str = "HS256") -> str:
        return jwt.encode(claims, key, algorithm=alg, headers=header)

    valid = signed(good)
    head, payload, signature = valid.split(".")
    payload_json = json.loads(base64.urlsafe_b64decode(payload + "=="))
    none_header = _b64({"alg": "none", "typ": "at+jwt"})
    none_header_title = _b64({"alg": "None", "typ": "at+jwt"})
    later = datetime.now(UTC) + timedelta(hours=1)
    as_admin = _b64({**payload_json, "role": "ADMIN"})
    as_other = _b64({**payload_json, "sub": "f" * 24})
    return {
        "alg none": f"{none_header}.{payload}.",
        "alg None, signature kept": f"{none_header_title}.{payload}.{signature}",
        "wrong algorithm HS512, right key": signed(good, alg="HS512"),
        "wrong algorithm HS384, right key": signed(good, alg="HS384"),
        "wrong key": signed(good, key="another-secret-" + "y" * 40),
        "expired": signed(
            _claims(
                live_server,
                user_id,
                iat=datetime.now(UTC) - timedelta(hours=2),
                nbf=datetime.now(UTC) - timedelta(hours=2),
                exp=datetime.now(UTC) - timedelta(hours=1),
            )
        ),
        "not yet valid": signed(_claims(live_server, user_id, nbf=later)),
        "tampered payload (role ADMIN)": f"{head}.{as_admin}.{signature}",
        "tampered payload (other user)": f"{head}.{as_other}.{signature}",
        "wrong audience": signed(_claims(live_server, user_id, aud="someone-else")),
        "audience list smuggling": signed(
            _claims(live_server, user_id, aud=["someone-else", live_server.settings.jwt_audience])
        ),
        "wrong issuer": signed(_claims(live_server, user_id, iss="evil")),
        "no typ claim": signed(_claims(live_server, user_id, typ=None)),
        "typ refresh": signed(_claims(live_server, user_id, typ="refresh")),
        "no typ header": jwt.encode(good, TEST_SECRET, algorithm="HS256"),
        "no exp": signed(_claims(live_server, user_id, exp=None)),
        "no jti": signed(_claims(live_server, user_id, jti=None)),
        "no version": signed(_claims(live_server, user_id, ver=None)),
        "stale version": signed(_claims(live_server, user_id, ver=7)),
        "no session": signed(_claims(live_server, user_id, sid=None)),
        "garbage": "not.a.jwt",
        "huge": "a" * 20_000,
    }


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_forged_and_misused_access_tokens_are_refused(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    account = await new_account(client)
    accepted = {}
    for name, token in _forgeries(live_server, account.id).items():
        body = await _me(client, token)
        if codes(body) != ["UNAUTHENTICATED"] or body["data"] is not None:
            accepted[name] = body
    assert not accepted, accepted


async def test_refresh_token_is_not_an_access_token_and_the_reverse(client: GraphQLClient) -> None:
    account = await new_account(client)
    as_access = await _me(client, account.refresh_token)
    assert codes(as_access) == ["UNAUTHENTICATED"]
    as_refresh = await client.execute(REFRESH, {"t": account.access_token})
    assert codes(as_refresh) == ["UNAUTHENTICATED"]
    # Neither misuse spent the genuine refresh token.
    assert (await client.data(REFRESH, {"t": account.refresh_token}))["refreshToken"]


async def test_token_errors_on_public_fields_stay_anonymous(client: GraphQLClient) -> None:
    body = await client.execute("{ genres { name } }", token="not.a.jwt")
    assert not body.get("errors") and body["data"]["genres"]


async def test_bad_authorization_schemes_are_not_users(client: GraphQLClient) -> None:
    account = await new_account(client)
    for header in (f"Basic {account.access_token}", f"Token {account.access_token}", "Bearer"):
        response = await client.http.post(
            "/graphql", json={"query": ME}, headers={"Authorization": header}
        )
        assert codes(response.json()) == ["UNAUTHENTICATED"], header


async def test_refresh_rotates_and_reuse_revokes_the_family(client: GraphQLClient) -> None:
    account = await new_account(client)
    first = (await client.data(REFRESH, {"t": account.refresh_token}))["refreshToken"]
    assert first["refreshToken"] != account.refresh_token
    second = (await client.data(REFRESH, {"t": first["refreshToken"]}))["refreshToken"]

    # An attacker replays the spent first token: refused, and the whole family dies...
    assert codes(await client.execute(REFRESH, {"t": account.refresh_token})) == ["UNAUTHENTICATED"]
    # ...so the legitimate holder of the newest token must log in again.
    assert codes(await client.execute(REFRESH, {"t": second["refreshToken"]})) == [
        "UNAUTHENTICATED"
    ]


async def test_concurrent_refresh_with_one_token_wins_once(client: GraphQLClient) -> None:
    import asyncio

    account = await new_account(client)
    results = await asyncio.gather(
        *(client.execute(REFRESH, {"t": account.refresh_token}) for _ in range(4))
    )
    winners = [r for r in results if not r.get("errors")]
    # Never two rotations of one token. The losers are reuses and end the family, so the
    # winner itself is refused when a loser ends it first (test_revocation's refresh races).
    assert len(winners) <= 1
    assert all(codes(r) == ["UNAUTHENTICATED"] for r in results if r.get("errors"))


async def test_logout_revokes_the_family_only(client: GraphQLClient) -> None:
    account = await new_account(client)
    other_login = await client.data(
        'mutation($e: String!) { login(email: $e, password: "correct horse battery")'
        " { refreshToken } }",
        {"e": account.email},
    )
    logout = "mutation($t: String!) { logout(refreshToken: $t) }"
    assert (await client.data(logout, {"t": account.refresh_token}))["logout"] is True
    assert codes(await client.execute(REFRESH, {"t": account.refresh_token})) == ["UNAUTHENTICATED"]
    assert await client.data(REFRESH, {"t": other_login["login"]["refreshToken"]})
    assert (await client.data(logout, {"t": "no-such-token"}))["logout"] is False


async def test_logout_everywhere_ends_refresh_and_access_tokens(client: GraphQLClient) -> None:
    account = await new_account(client)
    body = await client.execute("mutation { logoutEverywhere }", token=account.access_token)
    assert body["data"]["logoutEverywhere"] == 1
    assert codes(await _me(client, account.access_token)) == ["UNAUTHENTICATED"]
    assert codes(await client.execute(REFRESH, {"t": account.refresh_token})) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("minutes", [15])
def test_access_tokens_are_short_lived_and_typed(live_server: LiveServer, minutes: int) -> None:
    token = issue_access_token(live_server.settings, "u1", "USER", 3, session_id="s1")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header == {"alg": "HS256", "typ": "at+jwt"}
    assert {"sub", "exp", "iat", "nbf", "jti", "iss", "aud", "typ", "ver", "sid"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == minutes * 60
    assert claims["typ"] == "access" and claims["ver"] == 3
    assert abs(claims["iat"] - time.time()) < 5


async def test_sessions_list_and_revoke_one(client: GraphQLClient) -> None:
    account = await new_account(client)
    second = await client.data(
        'mutation($e: String!) { login(email: $e, password: "correct horse battery")'
        " { refreshToken } }",
        {"e": account.email},
    )
    listed = await client.execute(
        "{ mySessions { id lastUsedAt expiresAt } }", token=account.access_token
    )
    sessions = listed["data"]["mySessions"]
    assert len(sessions) == 2
    assert sessions[0]["lastUsedAt"] >= sessions[1]["lastUsedAt"]  # newest first
    # The newest is the second login: end it, and only its refresh token dies.
    revoked = await client.execute(
        "mutation($s: ID!) { revokeSession(id: $s) }",
        {"s": sessions[0]["id"]},
        token=account.access_token,
    )
    assert revoked["data"] == {"revokeSession": True}
    gone = await client.execute(REFRESH, {"t": second["login"]["refreshToken"]})
    assert codes(gone) == ["UNAUTHENTICATED"]
    assert (await client.data(REFRESH, {"t": account.refresh_token}))["refreshToken"]
    left = await client.execute("{ mySessions { id } }", token=account.access_token)
    assert [s["id"] for s in left["data"]["mySessions"]] == [sessions[1]["id"]]


async def test_sessions_have_an_absolute_lifetime(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    """Rotation slides the expiry, so a stolen token kept fresh would live forever without
    a limit on the login itself (MADHUR_SESSION_MAX_DAYS)."""
    account = await new_account(client)
    fresh = (await client.data(REFRESH, {"t": account.refresh_token}))["refreshToken"]
    days = live_server.settings.session_max_days
    await RefreshToken.get_pymongo_collection().update_many(
        {"user_id": ObjectId(account.id)},
        {"$set": {"created_at": datetime.now(UTC) - timedelta(days=days, minutes=1)}},
    )
    old = await client.execute(REFRESH, {"t": fresh["refreshToken"]})
    assert codes(old) == ["UNAUTHENTICATED"]
    assert "too old" in old["errors"][0]["message"]
