"""Mood journeys and taste mixes through GraphQL, on the real sample catalog."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

from madhur_gql.config import Settings
from madhur_gql.recommender.mood import MOOD_TARGETS, Mood
from tests.conftest import GraphQLClient, error_codes, register_user

JOURNEY = """query($from: Mood!, $to: Mood!, $length: Int) {
  moodJourney(from: $from, to: $to, length: $length) {
    score source reasons
    song { id artist genres audioFeatures { valence energy } } } }"""
MIXES = """query($count: Int, $size: Int) { myMixes(count: $count, size: $size) {
  id title description songs { score source reasons song { id artist genres } } } }"""
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"
REGION = 0.2  # the documented radius of a mood's region on the valence-energy plane


async def listener(client: GraphQLClient) -> tuple[str, str]:
    payload = await register_user(client)
    return payload["accessToken"], payload["user"]["id"]


def centre(mood: str) -> tuple[float, float]:
    targets = MOOD_TARGETS[Mood(mood)]
    return targets["valence"][0], targets["energy"][0]


def point(pick: dict[str, Any]) -> tuple[float, float]:
    features = pick["song"]["audioFeatures"]
    return features["valence"], features["energy"]


async def journey(
    client: GraphQLClient, token: str, start: str, end: str, length: int = 20
) -> list[dict[str, Any]]:
    body = await client.execute(JOURNEY, {"from": start, "to": end, "length": length}, token=token)
    assert not body.get("errors"), body["errors"]
    result: list[dict[str, Any]] = body["data"]["moodJourney"]
    return result


async def songs_in(client: GraphQLClient, text: str, first: int) -> list[str]:
    page = await client.data(
        "query($s: String!, $n: Int!) { songs(first: $n, search: $s) { edges { node { id } } } }",
        {"s": text, "n": first},
    )
    return [edge["node"]["id"] for edge in page["songs"]["edges"]]


async def test_a_journey_moves_smoothly_from_one_mood_to_another(client: GraphQLClient) -> None:
    token, _ = await listener(client)
    for start, end in (("SAD", "HAPPY"), ("ENERGETIC", "SAD"), ("HAPPY", "CHILL")):
        picks = await journey(client, token, start, end)
        assert len(picks) == 20 and len({p["song"]["id"] for p in picks}) == 20
        a, b = centre(start), centre(end)
        assert all(math.dist(point(p), a) <= REGION for p in picks[:3]), (start, picks[:3])
        assert all(math.dist(point(p), b) <= REGION for p in picks[-3:]), (end, picks[-3:])
        steps = [math.dist(point(x), point(y)) for x, y in itertools.pairwise(picks)]
        assert max(steps) <= 0.3, steps
        # progress along the way from the first mood to the second never goes back much
        axis = (b[0] - a[0], b[1] - a[1])
        norm = math.hypot(*axis)
        progress = [
            ((v - a[0]) * axis[0] + (e - a[1]) * axis[1]) / norm**2 for v, e in map(point, picks)
        ]
        assert all(
            later >= earlier - 0.2 for earlier, later in zip(progress, progress[3:], strict=False)
        )
        artists = [p["song"]["artist"] for p in picks]
        assert all(x != y for x, y in itertools.pairwise(artists)), "no artist twice in a row"
        assert all(p["reasons"] for p in picks)


async def test_a_journey_is_personal_with_history(client: GraphQLClient) -> None:
    fan, _ = await listener(client)
    newcomer, _ = await listener(client)
    for song in await songs_in(client, "queen", 6):
        await client.execute(RECORD, {"i": {"songId": song, "kind": "LIKE"}}, token=fan)
    rock = lambda picks: sum("rock" in p["song"]["genres"] for p in picks)  # noqa: E731
    theirs = await journey(client, fan, "SAD", "HAPPY")
    plain = await journey(client, newcomer, "SAD", "HAPPY")
    assert rock(theirs) >= rock(plain) + 3, "a Queen fan's journey has more rock"
    assert any(p["source"] in ("COLLABORATIVE", "CONTENT") for p in theirs)


async def test_journey_lengths_are_checked(client: GraphQLClient) -> None:
    token, _ = await listener(client)
    for length in (5, 101):
        body = await client.execute(
            JOURNEY, {"from": "SAD", "to": "HAPPY", "length": length}, token=token
        )
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == "length"
    assert error_codes(await client.execute(JOURNEY, {"from": "SAD", "to": "HAPPY"})) == [
        "UNAUTHENTICATED"
    ]


async def test_mixes_split_a_taste_into_named_clusters_of_new_and_rested_songs(
    client: GraphQLClient, settings: Settings
) -> None:
    """Favourites liked 45 days ago come back in the mixes; the ones played today do not."""
    token, user_id = await listener(client)
    tastes = {"queen": 10, "bad bunny": 10, "martin garrix": 10}
    liked = {name: await songs_in(client, name, n) for name, n in tastes.items()}
    long_ago = datetime.now(UTC) - timedelta(days=45)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        await mongo[settings.database_name]["interactions"].insert_many(
            [
                {
                    "user_id": ObjectId(user_id),
                    "song_id": ObjectId(song),
                    "kind": "LIKE",
                    "created_at": long_ago + timedelta(minutes=i),
                }
                for i, song in enumerate(s for songs in liked.values() for s in songs)
            ]
        )
    finally:
        await mongo.close()
    recent = [songs[0] for songs in liked.values()]
    for song in recent:
        body = await client.execute(RECORD, {"i": {"songId": song, "kind": "PLAY"}}, token=token)
        assert not body.get("errors")
    history = {s for songs in liked.values() for s in songs}
    rested = history - set(recent)
    for _ in range(50):  # the backdated likes reach the recommender through the change stream,
        # and may come in more than one batch: nine of them already make three mixes
        body = await client.execute(MIXES, {"count": 3, "size": 12}, token=token)
        mixes = body["data"]["myMixes"]
        picked = [{p["song"]["id"] for p in mix["songs"]} for mix in mixes]
        if len(mixes) == 3 and all(ids & rested for ids in picked):
            break
        await asyncio.sleep(0.1)
    assert len(mixes) == 3, body
    titles = [m["title"] for m in mixes]
    assert len(set(titles)) == 3 and len({m["id"] for m in mixes}) == 3
    seen: set[str] = set()
    dominant = []
    for mix in mixes:
        ids = [p["song"]["id"] for p in mix["songs"]]
        assert 8 <= len(ids) <= 12 and mix["description"]
        assert not seen & set(ids), "mixes differ: no song in two of them"
        seen |= set(ids)
        assert not set(recent) & set(ids), "nothing played today"
        assert set(ids) & rested, "favourites not played for a while come back"
        assert len(set(ids) - history) >= len(ids) // 2, "and new picks"
        genres = Counter(g for p in mix["songs"] for g in p["song"]["genres"])
        top = genres.most_common(1)[0][0]
        assert top.lower() in mix["title"].lower() or top.lower() in mix["description"].lower()
        dominant.append(top)
    assert len(set(dominant)) == 3, "one mix per taste"


async def test_a_newcomer_gets_mixes_too_and_sizes_are_checked(client: GraphQLClient) -> None:
    token, _ = await listener(client)
    body = await client.execute(MIXES, {"count": 2, "size": 10}, token=token)
    mixes = body["data"]["myMixes"]
    assert len(mixes) == 2 and all(len(m["songs"]) == 10 for m in mixes)
    assert mixes[0]["title"] != mixes[1]["title"]
    for variables, field in (
        ({"count": 0}, "count"),
        ({"count": 11}, "count"),
        ({"size": 0}, "size"),
        ({"size": 101}, "size"),
    ):
        body = await client.execute(MIXES, variables, token=token)
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == field
