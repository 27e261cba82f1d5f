"""Passwords and the caller's own account: what registration refuses, what changing the
password ends, what deleting the account leaves behind (nothing)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bson import ObjectId

from madhur_gql.auth.passwords import check_password, dummy_hash, validate_new_password
from madhur_gql.documents import User
from madhur_gql.errors import BadUserInput
from madhur_gql.services.accounts.service import normalise_email
from tests.conftest import REGISTER, GraphQLClient
from tests.security.conftest import PASSWORD, codes, execute_ascii, new_account

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
CHANGE = (
    "mutation($c: String!, $n: String!) { changePassword(current: $c, new: $n)"
    " { accessToken refreshToken } }"
)
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"


async def _register(client: GraphQLClient, email: str, password: str) -> dict[str, Any]:
    return await execute_ascii(
        client,
        REGISTER,
        {"input": {"email": email, "password": password, "displayName": "Mallory"}},
    )


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short1!", "too short"),
        ("é" * 37, "74 bytes in UTF-8: bcrypt would raise"),
        ("x" * 73, "73 bytes"),
        ("password123", "on the common list"),
        ("Qwertyuiop", "on the common list, any case"),
        ("password2024!!", "a common word with decorations"),
        ("aaaaaaaaaaaaaa", "one repeated character"),
    ],
)
async def test_registration_refuses_weak_or_impossible_passwords(
    client: GraphQLClient, password: str, why: str
) -> None:
    body = await _register(client, "weak-password@example.com", password)
    assert codes(body) == ["BAD_USER_INPUT"], why
    assert body["errors"][0]["extensions"]["field"] == "password"


async def test_password_containing_the_email_name_is_refused(client: GraphQLClient) -> None:
    body = await _register(client, "ravishankar@example.com", "ravishankar-rocks")
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_72_bytes_is_fine_and_over_72_at_login_is_just_wrong(client: GraphQLClient) -> None:
    password = "äöüß" * 9  # exactly 72 bytes
    email = "seventytwo@example.com"
    assert not (await _register(client, email, password)).get("errors")
    assert (await client.data(LOGIN, {"e": email, "p": password}))["login"]["accessToken"]
    for attempt in (password + "x", "ä" * 40):
        body = await execute_ascii(client, LOGIN, {"e": email, "p": attempt})
        assert codes(body) == ["UNAUTHENTICATED"]
        assert body["errors"][0]["message"] == "Invalid email or password."


async def test_change_password_ends_every_session(client: GraphQLClient) -> None:
    account = await new_account(client)
    second = await client.data(LOGIN, {"e": account.email, "p": PASSWORD})
    new_password = "a much better passphrase"

    wrong = await client.execute(
        CHANGE, {"c": "not my password", "n": new_password}, token=account.access_token
    )
    assert codes(wrong) == ["UNAUTHENTICATED"]
    weak = await client.execute(
        CHANGE, {"c": PASSWORD, "n": "password123"}, token=account.access_token
    )
    assert codes(weak) == ["BAD_USER_INPUT"]

    changed = await client.execute(
        CHANGE, {"c": PASSWORD, "n": new_password}, token=account.access_token
    )
    session = changed["data"]["changePassword"]
    # The old refresh token and every access token issued before are dead...
    assert codes(await client.execute(REFRESH, {"t": account.refresh_token})) == ["UNAUTHENTICATED"]
    for token in (account.access_token, second["login"]["accessToken"]):
        assert codes(await client.execute("{ me { id } }", token=token)) == ["UNAUTHENTICATED"]
    # ...the new session works, and only the new password logs in.
    assert (await client.execute("{ me { id } }", token=session["accessToken"]))["data"]
    assert (await client.data(REFRESH, {"t": session["refreshToken"]}))["refreshToken"]
    assert codes(await client.execute(LOGIN, {"e": account.email, "p": PASSWORD})) == [
        "UNAUTHENTICATED"
    ]
    assert (await client.data(LOGIN, {"e": account.email, "p": new_password}))["login"]


async def test_update_me_changes_only_what_is_given(client: GraphQLClient) -> None:
    account = await new_account(client)
    update = (
        "mutation($i: UpdateMeInput!) { updateMe(input: $i)"
        " { displayName favouriteGenres favouriteMoods email role } }"
    )
    first = await client.execute(
        update,
        {"i": {"displayName": "  Asha   R ", "favouriteGenres": ["Pop", "pop", " Rock "]}},
        token=account.access_token,
    )
    assert first["data"]["updateMe"] == {
        "displayName": "Asha R",
        "favouriteGenres": ["pop", "rock"],
        "favouriteMoods": [],
        "email": account.email,
        "role": "USER",
    }
    second = await client.execute(
        update, {"i": {"favouriteMoods": ["CALM", "FOCUS"]}}, token=account.access_token
    )
    assert second["data"]["updateMe"]["displayName"] == "Asha R"
    assert second["data"]["updateMe"]["favouriteMoods"] == ["CALM", "FOCUS"]

    for bad in ({"displayName": "   "}, {"favouriteGenres": ["x" * 51]}, {"role": "ADMIN"}):
        body = await client.execute(update, {"i": bad}, token=account.access_token)
        assert codes(body) == ["BAD_USER_INPUT"], bad
    assert codes(await client.execute(update, {"i": {"displayName": "Eve"}})) == ["UNAUTHENTICATED"]


async def test_delete_me_leaves_nothing_of_the_user(client: GraphQLClient) -> None:
    account = await new_account(client)
    song = (await client.data("{ songs(first: 1) { edges { node { id } } } }"))["songs"]
    song_id = song["edges"][0]["node"]["id"]
    record = "mutation($s: ID!) { recordInteraction(input: {songId: $s, kind: PLAY}) { id } }"
    await client.execute(record, {"s": song_id}, token=account.access_token)
    liked = await client.execute(
        "mutation($s: ID!) { like(songId: $s) { id likeCount } }",
        {"s": song_id},
        token=account.access_token,
    )
    likes_before = liked["data"]["like"]["likeCount"]
    await client.execute(
        'mutation { createPlaylist(input: {name: "mine", public: true}) { id } }',
        token=account.access_token,
    )
    delete = "mutation($p: String!) { deleteMe(password: $p) }"

    wrong = await client.execute(delete, {"p": "not my password"}, token=account.access_token)
    assert codes(wrong) == ["UNAUTHENTICATED"]
    assert await _owned_documents(account.id)  # still there after a wrong password

    assert (await client.execute(delete, {"p": PASSWORD}, token=account.access_token))["data"] == {
        "deleteMe": True
    }
    assert await _owned_documents(account.id) == {}
    for _ in range(100):  # the counters are shared data: other processes' within 1 s
        song_after = await client.data(
            "query($s: ID!) { song(id: $s) { likeCount } }", {"s": song_id}
        )
        if song_after["song"]["likeCount"] == likes_before - 1:
            break
        await asyncio.sleep(0.01)
    assert song_after["song"]["likeCount"] == likes_before - 1
    assert codes(await client.execute("{ me { id } }", token=account.access_token)) == [
        "UNAUTHENTICATED"
    ]
    assert codes(await client.execute(REFRESH, {"t": account.refresh_token})) == ["UNAUTHENTICATED"]
    assert codes(await client.execute(LOGIN, {"e": account.email, "p": PASSWORD})) == [
        "UNAUTHENTICATED"
    ]


async def _owned_documents(user_id: str) -> dict[str, int]:
    """Documents in ANY collection that point at the user: new collections are covered too."""
    database = User.get_pymongo_collection().database
    oid = ObjectId(user_id)
    query = {"$or": [{"_id": oid}, {"user_id": oid}, {"owner_id": oid}, {"follower_id": oid}]}
    found = {}
    for name in await database.list_collection_names():
        if name == "songs":  # the catalog: ~1k documents and no owner fields
            continue
        count = await database[name].count_documents(query)
        if count:
            found[name] = count
    return found


async def test_text_that_is_not_unicode_never_reaches_bcrypt(client: GraphQLClient) -> None:
    """A JSON "\\ud800" is refused at the door (400); behind it, the password code would
    still refuse it rather than crash, should another path ever deliver one."""
    body = await execute_ascii(
        client,
        REGISTER,
        {"input": {"email": "u@example.com", "password": "\ud800" * 12, "displayName": "U"}},
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    with pytest.raises(BadUserInput) as refused:
        validate_new_password("\ud800" * 12)
    assert refused.value.extensions["field"] == "password"
    assert await check_password("\ud800" * 12, dummy_hash(4)) is False
    with pytest.raises(BadUserInput):
        normalise_email("\ud800@example.com")
