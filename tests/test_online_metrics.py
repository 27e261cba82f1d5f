"""Online metrics: every served list has an id; what a listener does with its songs is counted.

`recommendationStats` (admin) and `/metrics` are read before and after each step, and the test
checks the difference: other tests in this module serve lists too.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from bson import ObjectId

from madhur_gql.config import Settings
from madhur_gql.documents import InteractionKind, Role, ServedList, User
from madhur_gql.services.recommendations.served_lists import Attribution, ServedLists
from tests.conftest import GraphQLClient, LiveServer, error_codes, register_user

RECS = "query($n: Int) { recommendations(first: $n) { listId source song { id } } }"
SIMILAR = "query($id: ID!) { similarSongs(songId: $id, first: 5) { listId song { id } } }"
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"
LIKE = "mutation($id: ID!) { like(songId: $id) { id } }"
STATS = """query($days: Int) { recommendationStats(days: $days) {
  day list source impressions plays likes skips dislikes playRate likeRate skipRate dislikeRate
} }"""
COUNTS = ("impressions", "plays", "likes", "skips", "dislikes")
Key = tuple[str, str]  # (list, source)


async def listener(client: GraphQLClient) -> str:
    token: str = (await register_user(client))["accessToken"]
    return token


async def admin(client: GraphQLClient) -> str:
    payload = await register_user(client)
    await User.get_pymongo_collection().update_one(
        {"_id": ObjectId(payload["user"]["id"])}, {"$set": {"role": Role.ADMIN.value}}
    )
    token: str = payload["accessToken"]
    return token


async def served(client: GraphQLClient, token: str, n: int = 10) -> list[dict[str, Any]]:
    body = await client.execute(RECS, {"n": n}, token=token)
    assert not body.get("errors"), body
    items: list[dict[str, Any]] = body["data"]["recommendations"]
    return items


async def record(client: GraphQLClient, token: str, song_id: str, kind: str) -> None:
    body = await client.execute(RECORD, {"i": {"songId": song_id, "kind": kind}}, token=token)
    assert not body.get("errors"), body


async def rows(client: GraphQLClient, token: str, days: int) -> list[dict[str, Any]]:
    body = await client.execute(STATS, {"days": days}, token=token)
    assert not body.get("errors"), body
    result: list[dict[str, Any]] = body["data"]["recommendationStats"]
    return result


async def stats(client: GraphQLClient, token: str) -> dict[Key, dict[str, Any]]:
    """Counts by (list, source) over today and yesterday (a list counts on its serving day,
    and a list backdated by the test near midnight is yesterday's)."""
    totals: dict[Key, dict[str, Any]] = {}
    for row in await rows(client, token, days=2):
        total = totals.setdefault((row["list"], row["source"]), counts())
        for name in COUNTS:
            total[name] += row[name]
    return totals


def delta(
    before: dict[Key, dict[str, Any]], after: dict[Key, dict[str, Any]]
) -> dict[Key, dict[str, int]]:
    changed: dict[Key, dict[str, int]] = {}
    for key, row in after.items():
        old = before.get(key, {})
        diff = {name: row[name] - old.get(name, 0) for name in COUNTS}
        if any(diff.values()):
            changed[key] = diff
    return changed


async def settled(
    client: GraphQLClient,
    token: str,
    before: dict[Key, dict[str, Any]],
    want: dict[Key, dict[str, int]],
) -> dict[Key, dict[str, int]]:
    """The change since `before`, once it equals `want` or after 5 s (impressions are batched)."""
    changed: dict[Key, dict[str, int]] = {}
    for _ in range(50):
        changed = delta(before, await stats(client, token))
        if changed == want:
            break
        await asyncio.sleep(0.1)
    return changed


def counts(**values: int) -> dict[str, int]:
    return {name: values.get(name, 0) for name in COUNTS}


async def served_and_counted(
    client: GraphQLClient, boss: str, token: str, n: int = 10
) -> list[dict[str, Any]]:
    """A list served to `token`, once its impressions are in the stats (they are batched)."""
    before = await stats(client, boss)
    items = await served(client, token, n)
    shown = Counter(item["source"] for item in items)
    want = {("RECOMMENDATIONS", source): counts(impressions=k) for source, k in shown.items()}
    assert await settled(client, boss, before, want) == want
    return items


async def stored_list(list_id: str) -> dict[str, Any]:
    for _ in range(50):
        doc = await ServedList.get_pymongo_collection().find_one({"_id": ObjectId(list_id)})
        if doc is not None:
            return doc
        await asyncio.sleep(0.1)
    raise AssertionError(f"list {list_id} was never stored")


async def test_every_item_of_a_list_shares_one_id_and_each_list_has_its_own(
    client: GraphQLClient,
) -> None:
    token = await listener(client)
    first, second = await served(client, token), await served(client, token)
    assert len({item["listId"] for item in first}) == 1
    assert len({item["listId"] for item in second}) == 1
    assert first[0]["listId"] != second[0]["listId"]
    similar = await client.execute(SIMILAR, {"id": first[0]["song"]["id"]}, token=token)
    similar_ids = {item["listId"] for item in similar["data"]["similarSongs"]}
    assert len(similar_ids) == 1
    assert similar_ids.isdisjoint({first[0]["listId"], second[0]["listId"]})


RADIO = """query($after: String) { radio(seed: {genre: "pop"}, first: 5, after: $after) {
  edges { node { listId source song { id } } } pageInfo { endCursor } } }"""
GENERATED = """{ moodJourney(from: SAD, to: HAPPY, length: 6) { listId }
  myMixes(count: 2, size: 4) { songs { listId } } }"""


async def test_radio_pages_journeys_and_mixes_are_lists_with_ids_and_count(
    client: GraphQLClient,
) -> None:
    boss, token = await admin(client), await listener(client)
    first = await client.execute(RADIO, {}, token=token)
    page = [edge["node"] for edge in first["data"]["radio"]["edges"]]
    after = first["data"]["radio"]["pageInfo"]["endCursor"]
    second = await client.execute(RADIO, {"after": after}, token=token)
    next_page = [edge["node"] for edge in second["data"]["radio"]["edges"]]
    assert len({n["listId"] for n in page}) == len({n["listId"] for n in next_page}) == 1
    assert page[0]["listId"] != next_page[0]["listId"]  # each page is a list of its own
    generated = await client.execute(GENERATED, token=token)
    assert not generated.get("errors"), generated
    assert len({item["listId"] for item in generated["data"]["moodJourney"]}) == 1
    mixes = [{s["listId"] for s in mix["songs"]} for mix in generated["data"]["myMixes"]]
    assert len(mixes) == 2 and all(len(ids) == 1 for ids in mixes)
    assert mixes[0] != mixes[1]
    await stored_list(next_page[0]["listId"])
    await asyncio.sleep(0.5)  # the impressions are counted just after the list is stored
    before = await stats(client, boss)
    await record(client, token, next_page[0]["song"]["id"], "PLAY")
    want = {("RADIO", next_page[0]["source"]): counts(plays=1)}
    assert await settled(client, boss, before, want) == want


async def test_plays_likes_skips_and_dislikes_are_attributed_to_the_list_and_source(
    client: GraphQLClient,
) -> None:
    boss = await admin(client)
    token = await listener(client)
    items = await served_and_counted(client, boss, token)
    before = await stats(client, boss)
    await record(client, token, items[0]["song"]["id"], "PLAY")
    await record(client, token, items[0]["song"]["id"], "PLAY")  # once per song and list
    liked = await client.execute(LIKE, {"id": items[1]["song"]["id"]}, token=token)
    assert not liked.get("errors"), liked
    await record(client, token, items[2]["song"]["id"], "SKIP")
    await record(client, token, items[3]["song"]["id"], "DISLIKE")
    want: dict[Key, dict[str, int]] = {}
    for item, name in zip(items, ("plays", "likes", "skips", "dislikes"), strict=False):
        key = ("RECOMMENDATIONS", item["source"])
        want.setdefault(key, counts())[name] += 1
    assert await settled(client, boss, before, want) == want

    for row in await rows(client, boss, days=1):
        key = (row["list"], row["source"])
        assert row["playRate"] == round(row["plays"] / row["impressions"], 4), (key, row)
        assert row["skipRate"] == round(row["skips"] / row["impressions"], 4), (key, row)
        assert row["likeRate"] == round(row["likes"] / row["impressions"], 4), (key, row)
        assert row["dislikeRate"] == round(row["dislikes"] / row["impressions"], 4), (key, row)


async def test_a_client_can_name_the_list_a_play_came_from(client: GraphQLClient) -> None:
    """Two lists hold the same song: the play counts for the one named, not the newest."""
    token = await listener(client)
    older, newer = await served(client, token), await served(client, token)
    song = next(i["song"]["id"] for i in older if i["song"]["id"] in ids_of(newer))
    await stored_list(newer[0]["listId"])
    named = {"songId": song, "kind": "PLAY", "listId": older[0]["listId"]}
    body = await client.execute(RECORD, {"i": named}, token=token)
    assert not body.get("errors"), body
    collection = ServedList.get_pymongo_collection()
    mark = f"{song}:PLAY"
    for _ in range(50):
        doc = await collection.find_one({"_id": ObjectId(older[0]["listId"])})
        if doc is not None and mark in doc["counted"]:
            break
        await asyncio.sleep(0.1)
    assert doc is not None and mark in doc["counted"]
    other = await collection.find_one({"_id": ObjectId(newer[0]["listId"])})
    assert other is not None and mark not in other["counted"]
    bad = await client.execute(
        RECORD, {"i": {"songId": song, "kind": "PLAY", "listId": "nope"}}, token=token
    )
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    assert bad["errors"][0]["extensions"]["field"] == "listId"


def ids_of(items: list[dict[str, Any]]) -> set[str]:
    return {item["song"]["id"] for item in items}


async def test_unlisted_songs_and_lists_older_than_30_minutes_are_not_attributed(
    client: GraphQLClient,
) -> None:
    boss = await admin(client)
    token = await listener(client)
    items = await served_and_counted(client, boss, token, n=20)
    doc = await stored_list(items[0]["listId"])
    listed = [str(song) for song in doc["song_ids"]]
    assert listed == [item["song"]["id"] for item in items]
    # A song the listener found elsewhere (not in any list served to them).
    others = await served_and_counted(client, boss, await listener(client), n=40)
    elsewhere = next(i["song"]["id"] for i in others if i["song"]["id"] not in listed)
    before = await stats(client, boss)
    await record(client, token, elsewhere, "PLAY")
    # 29 minutes old: still attributed; 31 minutes: not any more.
    now = datetime.now(UTC)
    collection = ServedList.get_pymongo_collection()
    await collection.update_one(
        {"_id": doc["_id"]}, {"$set": {"created_at": now - timedelta(minutes=29)}}
    )
    await record(client, token, items[0]["song"]["id"], "PLAY")
    want = {("RECOMMENDATIONS", items[0]["source"]): counts(plays=1)}
    assert await settled(client, boss, before, want) == want  # attribution runs in background
    await collection.update_one(
        {"_id": doc["_id"]}, {"$set": {"created_at": now - timedelta(minutes=31)}}
    )
    await record(client, token, items[1]["song"]["id"], "PLAY")
    await asyncio.sleep(1.0)  # time enough for a background attribution, were there one
    assert await settled(client, boss, before, want) == want


def scrape(text: str, metric: str) -> dict[tuple[str, str], float]:
    pattern = re.compile(rf'^{metric}\{{list="(\w+)",source="(\w+)"\}} ([0-9.e+-]+)$', re.MULTILINE)
    return {(m[1], m[2]): float(m[3]) for m in pattern.finditer(text)}


async def test_metrics_expose_impressions_and_rates_per_source(client: GraphQLClient) -> None:
    boss = await admin(client)
    token = await listener(client)
    items = await served(client, token)
    await record(client, token, items[0]["song"]["id"], "PLAY")
    await stored_list(items[0]["listId"])
    key = ("RECOMMENDATIONS", items[0]["source"])
    for _ in range(100):  # the figures are read from the database, cached a few seconds
        body = await client.execute(STATS, {"days": 30}, token=boss)
        totals: Counter[tuple[str, str, str]] = Counter()
        for row in body["data"]["recommendationStats"]:
            for name in COUNTS:
                totals[(row["list"], row["source"], name)] += row[name]
        text = (await client.http.get("/metrics")).text
        impressions = scrape(text, "madhur_recommendation_impressions_total")
        plays = scrape(text, "madhur_recommendation_plays_total")
        rates = scrape(text, "madhur_recommendation_play_rate")
        if (
            impressions.get(key) == totals[(*key, "impressions")]
            and plays.get(key) == totals[(*key, "plays")]
        ):
            break
        await asyncio.sleep(0.1)
    assert impressions[key] == totals[(*key, "impressions")] > 0
    assert plays[key] == totals[(*key, "plays")] > 0
    assert rates[key] == round(plays[key] / impressions[key], 4)
    assert "madhur_recommendation_like_rate" in text
    assert "madhur_recommendation_skip_rate" in text


async def test_stats_are_for_admins_and_the_window_is_bounded(client: GraphQLClient) -> None:
    token = await listener(client)
    assert error_codes(await client.execute(STATS, {"days": 7}, token=token)) == ["FORBIDDEN"]
    assert error_codes(await client.execute(STATS, {"days": 7})) == ["UNAUTHENTICATED"]
    boss = await admin(client)
    for days in (0, -1, 367):
        body = await client.execute(STATS, {"days": days}, token=boss)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == "days"
    body = await client.execute("{ recommendationStats { day } }", token=boss)
    days_seen = {row["day"] for row in body["data"]["recommendationStats"]}
    oldest = (datetime.now(UTC) - timedelta(days=6)).date().isoformat()
    assert all(day >= oldest for day in days_seen)


async def test_plays_racing_in_two_processes_for_one_list_count_once(
    client: GraphQLClient,
) -> None:
    """Attribution is batched per process; two processes' batches holding the same song, kind
    and list at once still count it once (the mark's claim decides), and a batch of several
    listeners' plays counts each for its own list."""
    boss, token, other = await admin(client), await listener(client), await listener(client)
    items = await served_and_counted(client, boss, token)
    theirs = await served_and_counted(client, boss, other)
    before = await stats(client, boss)
    me = ObjectId((await client.execute("{ me { id } }", token=token))["data"]["me"]["id"])
    them = ObjectId((await client.execute("{ me { id } }", token=other))["data"]["me"]["id"])
    now = datetime.now(UTC)
    song, their_song = ObjectId(items[0]["song"]["id"]), ObjectId(theirs[1]["song"]["id"])
    play = Attribution(me, song, InteractionKind.PLAY, now, None)
    here, there = ServedLists(), ServedLists()  # two processes' attributors, one database
    first, second = await asyncio.gather(
        here.attribute_many([play, Attribution(them, their_song, InteractionKind.PLAY, now, None)]),
        there.attribute_many([play]),
    )
    assert first[1] is True
    assert first[0] + second[0] == 1  # exactly one of the racing batches counted it
    want: dict[Key, dict[str, int]] = {}
    for item in (items[0], theirs[1]):
        want.setdefault(("RECOMMENDATIONS", item["source"]), counts())["plays"] += 1
    assert await settled(client, boss, before, want) == want
    assert await here.attribute_many([play]) == [False]  # and never again


async def test_a_play_on_another_instance_is_attributed_to_a_list_served_here(
    client: GraphQLClient, settings: Settings
) -> None:
    boss = await admin(client)
    token = await listener(client)
    items = await served_and_counted(client, boss, token)
    before = await stats(client, boss)
    # Last in the module: the two apps share one process's Beanie binding, which the
    # second one's shutdown closes (separate processes in production).
    other = LiveServer(settings)
    await other.start()
    try:
        async with httpx.AsyncClient(base_url=other.url, timeout=30) as http:
            await record(GraphQLClient(http), token, items[4]["song"]["id"], "PLAY")
        want = {("RECOMMENDATIONS", items[4]["source"]): counts(plays=1)}
        assert await settled(client, boss, before, want) == want
    finally:
        await other.stop()
