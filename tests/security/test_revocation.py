"""Revoked access tokens read nothing, anywhere in the schema.

A token is revoked when its account's token version moves (logoutEverywhere, changePassword),
when its session ends (revokeSession, logout, refresh-token reuse) or when the account goes.
The sweep calls every root field of the authorization matrix with such a token: fields that
need a user answer UNAUTHENTICATED, public fields answer exactly as they do anonymously (so
nothing private leaks through `likedByMe` or a private playlist), and a field added to the
schema is swept as soon as it has its row in the matrix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from madhur_gql.documents import Role
from tests.conftest import GraphQLClient
from tests.security.conftest import PASSWORD, Account, codes, new_account
from tests.security.test_authorization import OPERATIONS, Access, Caller, World
from tests.security.test_authorization import world as world

ME = "{ me { id } }"
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }"


async def _ok(
    client: GraphQLClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    body = await client.execute(query, variables, token=token)
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


async def _second_login(client: GraphQLClient, account: Account) -> dict[str, str]:
    login: dict[str, str] = (await client.data(LOGIN, {"e": account.email, "p": PASSWORD}))["login"]
    return login


async def _session_ids(client: GraphQLClient, token: str) -> list[str]:
    body = await client.execute("{ mySessions { id } }", token=token)
    return [s["id"] for s in body["data"]["mySessions"]]


# Each way to revoke: it gets a fresh account and returns the access token that must be dead.
Revoke = Callable[[GraphQLClient, Account], Awaitable[str]]


async def _logout_everywhere(client: GraphQLClient, account: Account) -> str:
    await _ok(client, "mutation { logoutEverywhere }", token=account.access_token)
    return account.access_token


async def _change_password(client: GraphQLClient, account: Account) -> str:
    body = await client.execute(
        f'mutation {{ changePassword(current: "{PASSWORD}", new: "a different passphrase") '
        "{ accessToken } }",
        token=account.access_token,
    )
    assert not body.get("errors"), body
    return account.access_token


async def _revoke_session(client: GraphQLClient, account: Account) -> str:
    other = await _second_login(client, account)
    mine = await _session_ids(client, account.access_token)
    # The oldest session is the registration's: end it from the second login.
    body = await client.execute(
        "mutation($s: ID!) { revokeSession(id: $s) }", {"s": mine[-1]}, token=other["accessToken"]
    )
    assert body["data"] == {"revokeSession": True}, body
    return account.access_token


async def _logout(client: GraphQLClient, account: Account) -> str:
    await client.data(
        "mutation($t: String!) { logout(refreshToken: $t) }", {"t": account.refresh_token}
    )
    return account.access_token


async def _delete_me(client: GraphQLClient, account: Account) -> str:
    await _ok(
        client, f'mutation {{ deleteMe(password: "{PASSWORD}") }}', token=account.access_token
    )
    return account.access_token


REVOCATIONS: dict[str, Revoke] = {
    "logoutEverywhere": _logout_everywhere,
    "changePassword": _change_password,
    "revokeSession": _revoke_session,
    "logout": _logout,
    "deleteMe": _delete_me,
}


def _shape(body: dict[str, Any]) -> tuple[list[str], bool]:
    return codes(body), body.get("data") is None


@pytest.mark.parametrize("how", REVOCATIONS)
async def test_a_revoked_token_reads_nothing_anywhere(
    client: GraphQLClient,
    world: World,
    how: str,
) -> None:
    assert world.admin is not None
    wrong: dict[str, Any] = {}
    bystander = await new_account(client)
    for name, row in OPERATIONS.items():
        if name.startswith("Subscription."):
            continue  # over HTTP a subscription is refused whoever asks; a socket re-checks
        account = await new_account(client)
        caller = Caller("user", account, world.admin, account.access_token)
        variables = await row.args(world, caller)
        revoked = await REVOCATIONS[how](client, account)
        body = await client.execute(row.document, variables, token=revoked)
        if row.access is Access.PUBLIC:
            # Anonymous is the reference: the same variables, no token at all.
            anonymous = await client.execute(
                row.document,
                await row.args(world, Caller("anonymous", bystander, world.admin, None)),
            )
            if name.startswith("Mutation."):
                continue  # login, register, refresh, logout: their own token is the credential
            if _shape(body) != _shape(anonymous):
                wrong[name] = (body, anonymous)
        elif codes(body) != ["UNAUTHENTICATED"] or body.get("data") is not None:
            wrong[name] = body
    assert not wrong, f"after {how}: {wrong}"


@pytest.mark.parametrize("how", REVOCATIONS)
async def test_a_revoked_token_sees_no_private_field(
    client: GraphQLClient,
    world: World,
    how: str,
) -> None:
    """The fields below public root fields that use the caller: likedByMe and private
    playlists. These were read with the old token after logoutEverywhere (issue 15)."""
    account = await new_account(client)
    private = await world.playlist(account, songs=1)
    await client.execute(
        "mutation($s: ID!) { like(songId: $s) { id } }",
        {"s": world.song_id},
        token=account.access_token,
    )
    read = "query($p: ID!, $s: ID!) { song(id: $s) { likedByMe } mine: playlist(id: $p) { id } }"
    live = await client.execute(
        read, {"p": private, "s": world.song_id}, token=account.access_token
    )
    assert live["data"] == {"song": {"likedByMe": True}, "mine": {"id": private}}  # the control
    revoked = await REVOCATIONS[how](client, account)
    liked = await client.execute(
        "query($s: ID!) { song(id: $s) { likedByMe } }", {"s": world.song_id}, token=revoked
    )
    assert liked["data"] == {"song": {"likedByMe": False}}, liked
    playlist = await client.execute(
        "query($p: ID!) { playlist(id: $p) { id name } }", {"p": private}, token=revoked
    )
    assert codes(playlist) == ["NOT_FOUND"] and playlist["data"] is None


async def test_ending_one_session_ends_its_access_token_only(client: GraphQLClient) -> None:
    account = await new_account(client)
    other = await _second_login(client, account)
    await client.data(
        "mutation($t: String!) { logout(refreshToken: $t) }", {"t": other["refreshToken"]}
    )
    assert codes(await client.execute(ME, token=other["accessToken"])) == ["UNAUTHENTICATED"]
    assert (await client.execute(ME, token=account.access_token))["data"]["me"]["id"] == account.id


async def test_refresh_races_never_leave_a_live_token(client: GraphQLClient) -> None:
    """Two refreshes with one token: one wins, the other is a reuse, and the family dies,
    winner's new tokens included, whatever the interleaving (it was 1 race in 6)."""
    survivors = []
    for _ in range(24):
        account = await new_account(client)
        results = await asyncio.gather(
            client.execute(REFRESH, {"t": account.refresh_token}),
            client.execute(REFRESH, {"t": account.refresh_token}),
        )
        winners = [r["data"]["refreshToken"] for r in results if not r.get("errors")]
        assert len(winners) <= 1
        for won in winners:
            again = await client.execute(REFRESH, {"t": won["refreshToken"]})
            if not again.get("errors"):
                survivors.append("refresh")
            if not (await client.execute(ME, token=won["accessToken"])).get("errors"):
                survivors.append("access")
    assert not survivors


async def test_an_admins_revoked_token_is_not_an_admin(client: GraphQLClient) -> None:
    admin = await new_account(client, Role.ADMIN)
    await _ok(client, "mutation { logoutEverywhere }", token=admin.access_token)
    body = await client.execute(
        'mutation { createArtist(name: "Revoked Admin Artist") { id } }', token=admin.access_token
    )
    assert codes(body) == ["UNAUTHENTICATED"]
