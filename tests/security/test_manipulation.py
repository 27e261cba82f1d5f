"""Shared lists cannot be bought: one listener's repeats count less and less, fresh accounts
count little until they look like real listeners, a collaborative link needs several
established listeners before it is shown, and a deleted account's plays are taken back.

"Established" listeners here are accounts whose creation date the test moves back past
MADHUR_ESTABLISHED_ACCOUNT_DAYS, with MADHUR_ESTABLISHED_MIN_SONGS songs of history.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.documents import User
from tests.conftest import GraphQLClient, LiveServer, make_settings
from tests.security.conftest import PASSWORD, Account, new_account

PLAY = "mutation($s: ID!) { recordInteraction(input: {songId: $s, kind: PLAY}) { id } }"
LIKE = "mutation($s: ID!) { like(songId: $s) { id } }"
TEN_PLAYS = (
    "mutation($s: ID!) { "
    + " ".join(
        f"p{i}: recordInteraction(input: {{songId: $s, kind: PLAY}}) {{ id }}" for i in range(10)
    )
    + " }"
)


@pytest.fixture(scope="module")
def settings(mongo_server: EmbeddedMongo, database_name: str) -> Settings:
    return make_settings(
        mongo_server.uri,
        database_name,
        MADHUR_ESTABLISHED_ACCOUNT_DAYS=7,
        MADHUR_ESTABLISHED_MIN_SONGS=5,
        MADHUR_RECOMMENDER_REBUILD_MINUTES=0,
    )


async def _ids(client: GraphQLClient, order: str, count: int, offset: int = 0) -> list[str]:
    body = await client.data(
        "query($o: SongOrder!) { songs(first: 100, order: $o) { edges { node { id } } } }",
        {"o": order},
    )
    return [e["node"]["id"] for e in body["songs"]["edges"]][offset : offset + count]


async def _established(client: GraphQLClient, history: list[str]) -> Account:
    """An account a month old with a real history (distinct songs played and liked)."""
    account = await new_account(client)
    await User.get_pymongo_collection().update_one(
        {"_id": ObjectId(account.id)},
        {"$set": {"created_at": datetime.now(UTC) - timedelta(days=30)}},
    )
    for song in history:
        await client.execute(PLAY, {"s": song}, token=account.access_token)
    return account


async def _rank(client: GraphQLClient, field: str, song: str) -> int | None:
    body = await client.data(f"{{ {field}(first: 50) {{ edges {{ node {{ id }} }} }} }}")
    ids = [e["node"]["id"] for e in body[field]["edges"]]
    return ids.index(song) + 1 if song in ids else None


async def test_one_listener_cannot_buy_the_top_of_trending(client: GraphQLClient) -> None:
    background = await _ids(client, "POPULARITY", 8)
    for _ in range(4):  # four real listeners play the same eight songs
        await _established(client, background)
    target = (await _ids(client, "TITLE", 1, offset=57))[0]
    attacker = await new_account(client)
    for _ in range(30):  # 300 plays of one obscure song
        body = await client.execute(TEN_PLAYS, {"s": target}, token=attacker.access_token)
        assert not body.get("errors"), body
    rank = await _rank(client, "trending", target)
    assert rank is None or rank > len(background), rank
    # The account goes, and its plays with it.
    deleted = await client.execute(
        f'mutation {{ deleteMe(password: "{PASSWORD}") }}', token=attacker.access_token
    )
    assert deleted["data"] == {"deleteMe": True}, deleted
    after = await client.data("{ trending(first: 20) { edges { node { id } } } }")
    leaders = [e["node"]["id"] for e in after["trending"]["edges"]][: len(background)]
    assert set(leaders) == set(background) and target not in leaders
    for _ in range(100):  # the counter, shared data, follows the database within 1 s
        song = await client.data("query($s: ID!) { song(id: $s) { playCount } }", {"s": target})
        if song["song"]["playCount"] == 0:
            break
        await asyncio.sleep(0.01)
    assert song["song"]["playCount"] == 0


async def test_a_dozen_fresh_accounts_cannot_poison_similar_songs(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    popular = (await _ids(client, "POPULARITY", 1))[0]
    target = (await _ids(client, "TITLE", 1, offset=83))[0]
    for _ in range(12):
        shill = await new_account(client)
        for song in (popular, target):
            await client.execute(LIKE, {"s": song}, token=shill.access_token)
    victim = await _established(client, await _ids(client, "POPULARITY", 5, offset=10))
    await client.execute(LIKE, {"s": popular}, token=victim.access_token)
    await live_server.app.state.services.recommendations.rebuild()

    similar = await client.data(
        "query($s: ID!) { similarSongs(songId: $s, first: 10) { source reasons song { id } } }",
        {"s": popular},
    )
    ids = [r["song"]["id"] for r in similar["similarSongs"]]
    assert ids and ids[0] != target, similar
    picks = (
        await client.execute(
            "{ recommendations(first: 50) { source reasons song { id } } }",
            token=victim.access_token,
        )
    )["data"]["recommendations"]
    for pick in picks:
        if pick["song"]["id"] == target:
            assert pick["source"] != "COLLABORATIVE", pick
            assert not any("also love" in reason for reason in pick["reasons"]), pick


async def test_established_listeners_still_make_links(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    """The control: the same pattern from established listeners is a real signal."""
    popular = (await _ids(client, "POPULARITY", 1, offset=2))[0]
    target = (await _ids(client, "TITLE", 1, offset=91))[0]
    history = await _ids(client, "POPULARITY", 5, offset=30)
    for _ in range(6):
        account = await _established(client, history)
        for song in (popular, target):
            await client.execute(LIKE, {"s": song}, token=account.access_token)
    await live_server.app.state.services.recommendations.rebuild()
    similar = await client.data(
        "query($s: ID!) { similarSongs(songId: $s, first: 10) { song { id } } }", {"s": popular}
    )
    assert target in [r["song"]["id"] for r in similar["similarSongs"]]
