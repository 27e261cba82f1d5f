"""Attribution from memory: bounded per listener, other workers found through the heads, and a
listener's write never waiting for (or failing with) the metrics."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from madhur_gql.documents import Interaction, InteractionKind, ServedList
from madhur_gql.documents.served_list import RECENT_LISTS
from madhur_gql.services.recommendations import served_lists as served_lists_module
from madhur_gql.services.recommendations.recent_lists import RecentList, RecentLists
from madhur_gql.services.recommendations.served_lists import Attribution, ServedLists
from tests.conftest import GraphQLClient, register_user

RECS = "query($n: Int) { recommendations(first: $n) { listId source song { id } } }"
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"


async def listener(client: GraphQLClient) -> tuple[str, ObjectId]:
    payload = await register_user(client)
    return payload["accessToken"], ObjectId(payload["user"]["id"])


async def served(client: GraphQLClient, token: str, n: int) -> list[dict[str, Any]]:
    body = await client.execute(RECS, {"n": n}, token=token)
    assert not body.get("errors"), body
    items: list[dict[str, Any]] = body["data"]["recommendations"]
    assert items
    return items


async def play(client: GraphQLClient, token: str, song_id: str) -> str:
    body = await client.execute(RECORD, {"i": {"songId": song_id, "kind": "PLAY"}}, token=token)
    assert not body.get("errors"), body
    interaction_id: str = body["data"]["recordInteraction"]["id"]
    return interaction_id


async def stored(list_id: str) -> dict[str, Any]:
    for _ in range(100):
        doc = await ServedList.get_pymongo_collection().find_one({"_id": ObjectId(list_id)})
        if doc is not None:
            return doc
        await asyncio.sleep(0.05)
    raise AssertionError(f"list {list_id} was never stored")


async def marked(list_ids: list[str], mark: str) -> set[str]:
    """Which of these lists hold the mark, once some does (attribution runs in background)."""
    collection = ServedList.get_pymongo_collection()
    ids = [ObjectId(list_id) for list_id in list_ids]
    found: set[str] = set()
    for _ in range(100):
        found = {
            str(doc["_id"])
            async for doc in collection.find({"_id": {"$in": ids}, "counted": mark}, {"_id": 1})
        }
        if found:
            break
        await asyncio.sleep(0.05)
    return found


async def test_after_a_flood_of_lists_plays_are_stored_and_count_for_the_newest_list(
    client: GraphQLClient,
) -> None:
    """Far more lists than memory keeps per listener: every play is still acknowledged and
    stored, and one counts for the newest list holding its song, not an older one."""
    token, _ = await listener(client)
    lists = [await served(client, token, 10)]
    for _ in range(3):
        lists += await asyncio.gather(*(served(client, token, 10) for _ in range(40)))
    newest = await served(client, token, 10)  # after every other (those came concurrently)
    lists.append(newest)
    first_ids = {item["song"]["id"] for item in lists[0]}
    song = next(item["song"]["id"] for item in newest if item["song"]["id"] in first_ids)
    await stored(newest[0]["listId"])
    others = [item["song"]["id"] for item in lists[0] if item["song"]["id"] != song][:5]
    acknowledged = await asyncio.gather(
        play(client, token, song), *(play(client, token, s) for s in others)
    )
    holding = [items[0]["listId"] for items in lists if song in {i["song"]["id"] for i in items}]
    assert len(holding) > RECENT_LISTS
    assert await marked(holding, f"{song}:PLAY") == {newest[0]["listId"]}
    ids = [ObjectId(i) for i in acknowledged]
    count = await Interaction.get_pymongo_collection().count_documents({"_id": {"$in": ids}})
    assert count == len(acknowledged)


async def test_a_fresh_process_finds_the_listeners_lists_through_their_heads(
    client: GraphQLClient,
) -> None:
    """An attributor that served nothing (another worker, or this one after a restart) still
    counts a play for the newest of the listener's lists holding the song, once."""
    token, user = await listener(client)
    older = await served(client, token, 20)
    newer = await served(client, token, 5)
    only_older = next(
        item for item in older if item["song"]["id"] not in {i["song"]["id"] for i in newer}
    )
    both = newer[0]["song"]["id"]
    await stored(newer[0]["listId"])
    await stored(older[0]["listId"])
    await asyncio.sleep(0.3)  # the heads are written just after the lists
    restarted = ServedLists()
    now = datetime.now(UTC)
    plays = [
        Attribution(user, ObjectId(only_older["song"]["id"]), InteractionKind.PLAY, now, None),
        Attribution(user, ObjectId(both), InteractionKind.SKIP, now, None),
    ]
    assert await restarted.attribute_many(plays) == [True, True]
    assert await marked([older[0]["listId"]], plays[0].mark) == {older[0]["listId"]}
    assert await marked([older[0]["listId"], newer[0]["listId"]], plays[1].mark) == {
        newer[0]["listId"]
    }
    assert await ServedLists().attribute_many(plays) == [False, False]  # counted once


async def test_lists_older_than_the_listeners_newest_64_are_not_counted(
    client: GraphQLClient,
) -> None:
    """The documented bound: an interaction counts only for the listener's newest lists."""
    token, user = await listener(client)
    old = await served(client, token, 20)
    newer: list[list[dict[str, Any]]] = []
    for _ in range(4):
        newer += await asyncio.gather(*(served(client, token, 3) for _ in range(RECENT_LISTS // 4)))
    newer_songs = {item["song"]["id"] for items in newer for item in items}
    song = next(i["song"]["id"] for i in old if i["song"]["id"] not in newer_songs)
    await stored(newer[-1][0]["listId"])
    await asyncio.sleep(0.3)
    attribution = Attribution(user, ObjectId(song), InteractionKind.PLAY, datetime.now(UTC), None)
    assert await ServedLists().attribute_many([attribution]) == [False]
    doc = await stored(old[0]["listId"])
    assert attribution.mark not in doc["counted"]


def scrape_dropped(text: str) -> float:
    found = re.search(
        r'^madhur_online_metrics_dropped_total\{what="attributions"\} (\S+)$', text, re.M
    )
    assert found is not None, text
    return float(found[1])


async def test_when_attribution_is_behind_plays_are_acknowledged_and_drops_counted(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = await listener(client)
    items = await served(client, token, 10)
    before = scrape_dropped((await client.http.get("/metrics")).text)
    monkeypatch.setattr(served_lists_module, "MAX_ATTRIBUTIONS", 0)  # always "full"
    acknowledged = [await play(client, token, item["song"]["id"]) for item in items[:3]]
    ids = [ObjectId(i) for i in acknowledged]
    assert await Interaction.get_pymongo_collection().count_documents({"_id": {"$in": ids}}) == 3
    assert scrape_dropped((await client.http.get("/metrics")).text) == before + 3


def entry(user: ObjectId, songs: list[ObjectId], at: datetime) -> RecentList:
    doc = {
        "_id": ObjectId(),
        "user_id": user,
        "kind": "RECOMMENDATIONS",
        "song_ids": songs,
        "sources": [f"S{i}" for i in range(len(songs))],
        "created_at": at,
    }
    return RecentList.of(doc)


def test_memory_is_bounded_per_listener_and_in_all_and_keeps_the_newest() -> None:
    memory = RecentLists(per_listener=4, total=10)
    songs = [ObjectId() for _ in range(5)]
    now = datetime.now(UTC)
    heavy, others = ObjectId(), [ObjectId() for _ in range(3)]
    lists = [entry(heavy, songs[:3], now - timedelta(seconds=100 - i)) for i in range(50)]
    for item in lists:
        memory.add(item)
    assert len(memory) == 4
    assert memory.choose(heavy, songs[1], now, None) is lists[-1]
    assert memory.choose(heavy, songs[4], now, None) is None
    assert memory.choose(heavy, songs[1], now, lists[0].id) is None  # forgotten
    assert lists[-1].source_of(songs[2]) == "S2"
    for user in others:  # 4 + 3 * 4 > 10: the listener served longest ago goes first
        for i in range(4):
            memory.add(entry(user, songs, now - timedelta(seconds=10 - i)))
    assert len(memory) <= 10
    assert memory.choose(heavy, songs[1], now, None) is None
    assert memory.choose(others[-1], songs[4], now, None) is not None
    late = entry(others[-1], [songs[0]], now - timedelta(minutes=31))
    memory.add(late)
    assert memory.choose(others[-1], songs[0], now, late.id) is None  # outside the window
