""" "Not for me", hidden artists, early skips and partial plays, through GraphQL."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient, error_codes, new_listener, picks_of

RECS = """query($first: Int, $genre: String) {
  recommendations(first: $first, genre: $genre) {
    score source song { id artist genres audioFeatures { acousticness energy } } } }"""
RADIO = """query($seed: RadioSeedInput!, $first: Int, $after: String) {
  radio(seed: $seed, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { song { id artist } } } } }"""
JOURNEY = """query($from: Mood!, $to: Mood!) {
  moodJourney(from: $from, to: $to, length: 20) { song { id artist } } }"""
MIXES = "{ myMixes(count: 3, size: 15) { title songs { song { id artist } } } }"
SIMILAR = "query($id: ID!) { similarSongs(songId: $id, first: 100) { song { id } } }"
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id kind } }"
HIDE = "mutation($id: ID!) { hideArtist(artistId: $id) { id name } }"
UNHIDE = "mutation($id: ID!) { unhideArtist(artistId: $id) { id name } }"
HIDDEN = "{ myHiddenArtists { id name } }"


async def recs(client: GraphQLClient, token: str, **variables: Any) -> list[dict[str, Any]]:
    return await picks_of(client, RECS, token, **{"first": 100, **variables})


async def record(client: GraphQLClient, token: str, song: str, kind: str, **extra: Any) -> None:
    body = await client.execute(RECORD, {"i": {"songId": song, "kind": kind, **extra}}, token=token)
    assert not body.get("errors"), body["errors"]


async def search(client: GraphQLClient, text: str, first: int = 5) -> list[dict[str, Any]]:
    page = await client.data(
        """query($s: String!, $n: Int!) { songs(first: $n, search: $s) {
          edges { node { id artist artistProfile { id } durationMs genres } } } }""",
        {"s": text, "n": first},
    )
    return [edge["node"] for edge in page["songs"]["edges"]]


async def every_list(client: GraphQLClient, token: str, genre: str) -> list[dict[str, Any]]:
    """The songs of every personal list: recommendations, three radio pages, a journey, mixes."""
    songs = [p["song"] for p in await recs(client, token)]
    after = None
    for _ in range(3):
        body = await client.execute(
            RADIO, {"seed": {"genre": genre}, "first": 30, "after": after}, token=token
        )
        assert not body.get("errors"), body["errors"]
        page = body["data"]["radio"]
        songs += [edge["node"]["song"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
    for start, end in (("SAD", "HAPPY"), ("CALM", "ENERGETIC")):
        body = await client.execute(JOURNEY, {"from": start, "to": end}, token=token)
        assert not body.get("errors"), body["errors"]
        songs += [p["song"] for p in body["data"]["moodJourney"]]
    body = await client.execute(MIXES, token=token)
    assert not body.get("errors"), body["errors"]
    songs += [p["song"] for mix in body["data"]["myMixes"] for p in mix["songs"]]
    return songs


def scores_of(picks: list[dict[str, Any]], ids: set[str]) -> dict[str, float]:
    return {p["song"]["id"]: p["score"] for p in picks if p["song"]["id"] in ids}


async def similar_to(client: GraphQLClient, song: str) -> set[str]:
    data = await client.data(SIMILAR, {"id": song})
    return {s["song"]["id"] for s in data["similarSongs"]}


async def compare_near(
    client: GraphQLClient, song: str, hurt: str, control: str
) -> tuple[float, float]:
    """Mean score of the songs near ``song`` in both listeners' lists: (hurt, control)."""
    near = await similar_to(client, song)
    hurt_scores = scores_of(await recs(client, hurt), near)
    control_scores = scores_of(await recs(client, control), near)
    shared = sorted(set(hurt_scores) & set(control_scores))
    assert len(shared) >= 5, "the songs near it are in both lists"
    mean = lambda scores: sum(scores[s] for s in shared) / len(shared)  # noqa: E731
    return mean(hurt_scores), mean(control_scores)


async def test_a_disliked_song_never_comes_back_and_songs_like_it_rank_lower(
    client: GraphQLClient,
) -> None:
    hurt, control = await new_listener(client), await new_listener(client)
    for song in await search(client, "the weeknd", 3):
        await record(client, hurt, song["id"], "LIKE")
        await record(client, control, song["id"], "LIKE")
    disliked = (await recs(client, hurt))[0]["song"]
    await record(client, hurt, disliked["id"], "DISLIKE")
    history = await client.execute(
        "{ myHistory(first: 1) { edges { node { kind } } } }", token=hurt
    )
    assert history["data"]["myHistory"]["edges"][0]["node"]["kind"] == "DISLIKE"
    genre = disliked["genres"][0]
    assert disliked["id"] not in {s["id"] for s in await every_list(client, hurt, genre)}
    assert disliked["id"] in {p["song"]["id"] for p in await recs(client, control)}
    disliked_score, control_score = await compare_near(client, disliked["id"], hurt, control)
    assert disliked_score < control_score


async def test_hidden_artists_are_gone_from_every_personal_list_until_unhidden(
    client: GraphQLClient,
) -> None:
    token = await new_listener(client)
    for song in await search(client, "queen", 3) + await search(client, "coldplay", 2):
        await record(client, token, song["id"], "LIKE")
    queen = (await search(client, "queen", 1))[0]["artistProfile"]["id"]
    assert "Queen" in {p["song"]["artist"] for p in await recs(client, token, genre="rock")}
    body = await client.execute(HIDE, {"id": queen}, token=token)
    assert body["data"]["hideArtist"] == {"id": queen, "name": "Queen"}
    await client.execute(HIDE, {"id": queen}, token=token)  # twice is once
    hidden = await client.execute(HIDDEN, token=token)
    assert hidden["data"]["myHiddenArtists"] == [{"id": queen, "name": "Queen"}]
    assert "Queen" not in {s["artist"] for s in await every_list(client, token, "rock")}
    station = await client.execute(RADIO, {"seed": {"artistId": queen}, "first": 20}, token=token)
    assert "Queen" not in {e["node"]["song"]["artist"] for e in station["data"]["radio"]["edges"]}
    body = await client.execute(UNHIDE, {"id": queen}, token=token)
    assert body["data"]["unhideArtist"]["name"] == "Queen"
    assert (await client.execute(HIDDEN, token=token))["data"]["myHiddenArtists"] == []
    assert "Queen" in {p["song"]["artist"] for p in await recs(client, token, genre="rock")}


async def test_hiding_needs_a_listener_and_a_real_artist(client: GraphQLClient) -> None:
    token = await new_listener(client)
    assert error_codes(await client.execute(HIDE, {"id": "0" * 24}, token=token)) == ["NOT_FOUND"]
    body = await client.execute(HIDE, {"id": "nope"}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "artistId"
    anonymous = await client.execute(HIDDEN, token="")
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_an_early_skip_counts_more_than_a_late_one(client: GraphQLClient) -> None:
    early, late = await new_listener(client), await new_listener(client)
    for song in await search(client, "ed sheeran", 3):
        await record(client, early, song["id"], "LIKE")
        await record(client, late, song["id"], "LIKE")
    skipped = (await recs(client, early))[0]["song"]["id"]
    await record(client, early, skipped, "SKIP", playedSeconds=3)
    await record(client, late, skipped, "SKIP", playedSeconds=170)
    for token in (early, late):
        assert skipped not in {p["song"]["id"] for p in await recs(client, token)}
    early_score, late_score = await compare_near(client, skipped, early, late)
    assert early_score < late_score


async def test_partial_plays_feed_the_profile_with_their_share(client: GraphQLClient) -> None:
    whole, partial = await new_listener(client), await new_listener(client)
    quiet = await client.data(
        """{ songs(first: 3, filter: {acousticness: {min: 0.8}}, order: POPULARITY) {
          edges { node { id durationMs } } } }"""
    )
    loud = await client.data(
        """{ songs(first: 1, filter: {genre: "edm", acousticness: {max: 0.02}}) {
          edges { node { id } } } }"""
    )
    dance = loud["songs"]["edges"][0]["node"]["id"]
    for token in (whole, partial):
        await record(client, token, dance, "LIKE")
    for edge in quiet["songs"]["edges"]:
        seconds = edge["node"]["durationMs"] // 1000
        await record(client, whole, edge["node"]["id"], "PLAY", playedSeconds=seconds)
        await record(client, partial, edge["node"]["id"], "PLAY", playedSeconds=seconds // 10)
    acoustic = lambda picks: sum(p["song"]["audioFeatures"]["acousticness"] for p in picks)  # noqa: E731
    whole_list = (await recs(client, whole))[:20]
    partial_list = (await recs(client, partial))[:20]
    assert acoustic(whole_list) > acoustic(partial_list) * 1.2


async def test_played_seconds_is_checked(client: GraphQLClient) -> None:
    token = await new_listener(client)
    song = (await search(client, "queen", 1))[0]["id"]
    for kind, seconds in (("SKIP", -1), ("PLAY", 10**7), ("LIKE", 10)):
        body = await client.execute(
            RECORD, {"i": {"songId": song, "kind": kind, "playedSeconds": seconds}}, token=token
        )
        assert error_codes(body) == ["BAD_USER_INPUT"], (kind, seconds)
        assert body["errors"][0]["extensions"]["field"] == "playedSeconds"
