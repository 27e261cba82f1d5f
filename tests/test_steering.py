"""Steering a list through GraphQL: exclusions, artist and genre seeds, audio targets."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.conftest import GraphQLClient, error_codes, new_listener, picks_of

RECS = """query($first: Int, $exclude: [ID!], $artists: [ID!], $genres: [String!],
  $audio: AudioTargetsInput, $genre: String, $diversity: Float) {
  recommendations(first: $first, excludeSongIds: $exclude, seedArtistIds: $artists,
    seedGenres: $genres, audio: $audio, genre: $genre, diversity: $diversity) {
    score source reasons
    song { id title artist genres popularity
      audioFeatures { energy valence danceability acousticness tempo loudness } }
  } }"""
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"


async def recs(client: GraphQLClient, token: str, **variables: Any) -> list[dict[str, Any]]:
    return await picks_of(client, RECS, token, **variables)


async def artist_id(client: GraphQLClient, name: str) -> str:
    data = await client.data(
        "query($s: String!) { artists(first: 1, search: $s) { edges { node { id name } } } }",
        {"s": name},
    )
    node = data["artists"]["edges"][0]["node"]
    assert node["name"] == name
    found: str = node["id"]
    return found


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def feature(picks: list[dict[str, Any]], name: str) -> float:
    return mean([p["song"]["audioFeatures"][name] for p in picks])


async def test_excluded_songs_stay_out_and_the_list_fills_up(client: GraphQLClient) -> None:
    token = await new_listener(client)
    first = await recs(client, token)
    excluded = [p["song"]["id"] for p in first[:5]]
    again = await recs(client, token, exclude=excluded)
    assert len(again) == 20
    assert not set(excluded) & {p["song"]["id"] for p in again}
    # without the variety re-rank (whose picks depend on every pick before them), the rest of
    # the list stays whole: excluding songs only frees places
    ranked = await recs(client, token, diversity=0.0)
    excluded = [p["song"]["id"] for p in ranked[:5]]
    again = await recs(client, token, exclude=excluded, diversity=0.0)
    assert not set(excluded) & {p["song"]["id"] for p in again}
    kept = {p["song"]["id"] for p in ranked[5:]}
    assert kept <= {p["song"]["id"] for p in again}, "the rest of the list stays"


async def test_artist_seeds_give_more_like_that_artist(client: GraphQLClient) -> None:
    token = await new_listener(client)
    queen = await artist_id(client, "Queen")
    picks = await recs(client, token, artists=[queen])
    assert len(picks) == 20
    assert {p["source"] for p in picks} <= {"SEED", "CONTENT", "COLLABORATIVE"}
    assert any("by Queen" in reason for p in picks for reason in p["reasons"])
    rock = sum("rock" in p["song"]["genres"] for p in picks)
    plain = await recs(client, token)
    assert rock >= sum("rock" in p["song"]["genres"] for p in plain) + 3, "Queen's songs are rock"


async def test_genre_seeds_give_songs_like_the_genres_best(client: GraphQLClient) -> None:
    token = await new_listener(client)
    picks = await recs(client, token, genres=["latin"])
    assert len(picks) == 20
    latin = sum("latin" in p["song"]["genres"] for p in picks)
    plain = await recs(client, token)
    assert latin >= sum("latin" in p["song"]["genres"] for p in plain) + 4
    mixed = await recs(client, token, genres=["latin", "edm"])
    counts = Counter(g for p in mixed for g in p["song"]["genres"])
    assert counts["latin"] >= 3 and counts["edm"] >= 3


async def test_seed_limits_and_unknown_seeds_are_named(client: GraphQLClient) -> None:
    token = await new_listener(client)
    body = await client.execute(
        RECS, {"genres": ["rock", "pop", "edm", "rap", "latin", "r&b"]}, token=token
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "seedGenres"
    body = await client.execute(RECS, {"genres": ["no such genre"]}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "seedGenres"
    queen = await artist_id(client, "Queen")
    body = await client.execute(RECS, {"artists": [queen] * 6}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "seedArtistIds"
    body = await client.execute(RECS, {"artists": ["0" * 24]}, token=token)
    assert error_codes(body) == ["NOT_FOUND"]
    body = await client.execute(RECS, {"artists": ["not an id"]}, token=token)
    assert body["errors"][0]["extensions"]["field"] == "seedArtistIds"
    body = await client.execute(RECS, {"exclude": ["not an id"]}, token=token)
    assert body["errors"][0]["extensions"]["field"] == "excludeSongIds"


async def test_min_and_max_are_hard_filters(client: GraphQLClient) -> None:
    token = await new_listener(client)
    for song in (await recs(client, token, genre="pop"))[:3]:
        await client.execute(
            RECORD, {"i": {"songId": song["song"]["id"], "kind": "LIKE"}}, token=token
        )
    audio = {
        "energy": {"min": 0.7},
        "acousticness": {"max": 0.1},
        "tempo": {"min": 100, "max": 130},
        "popularity": {"min": 40},
        "loudness": {"max": -4},
    }
    picks = await recs(client, token, audio=audio)
    assert len(picks) >= 10
    for p in picks:
        song = p["song"]
        features = song["audioFeatures"]
        assert features["energy"] >= 0.7 and features["acousticness"] <= 0.1
        assert 100 <= features["tempo"] <= 130 and features["loudness"] <= -4
        assert song["popularity"] >= 40
    # a narrow filter gives a short list, never songs outside it
    narrow = await recs(client, token, first=50, audio={"energy": {"min": 0.97}})
    assert 0 < len(narrow) < 50
    assert all(p["song"]["audioFeatures"]["energy"] >= 0.97 for p in narrow)


async def test_targets_pull_the_ranking_towards_a_value(client: GraphQLClient) -> None:
    token = await new_listener(client)
    plain = await recs(client, token)
    calm = await recs(client, token, audio={"energy": {"target": 0.2}})
    loud = await recs(client, token, audio={"energy": {"target": 0.95}})
    assert feature(calm, "energy") < feature(plain, "energy") - 0.15
    assert feature(loud, "energy") > max(feature(plain, "energy"), 0.8)
    happy = await recs(
        client, token, audio={"valence": {"target": 0.9}, "danceability": {"target": 0.8}}
    )
    assert feature(happy, "valence") > 0.7 and feature(happy, "danceability") > 0.7
    slow = await recs(client, token, audio={"tempo": {"target": 80}})
    assert feature(slow, "tempo") < feature(plain, "tempo") - 10


async def test_out_of_range_values_name_the_field(client: GraphQLClient) -> None:
    token = await new_listener(client)
    cases = {
        "audio.energy.min": {"energy": {"min": 1.5}},
        "audio.valence.target": {"valence": {"target": -0.1}},
        "audio.tempo.max": {"tempo": {"max": 1000}},
        "audio.loudness.min": {"loudness": {"min": -100}},
        "audio.popularity.min": {"popularity": {"min": 101}},
        "audio.danceability": {"danceability": {"min": 0.8, "max": 0.2}},
    }
    for field, audio in cases.items():
        body = await client.execute(RECS, {"audio": audio}, token=token)
        assert error_codes(body) == ["BAD_USER_INPUT"], (field, body)
        assert body["errors"][0]["extensions"]["field"] == field
        assert body["data"] is None
