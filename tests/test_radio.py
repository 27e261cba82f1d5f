"""Radio stations through GraphQL, on a generated catalog big enough for 500-song stations.

Four genres of 700 invented songs each (35 artists of 20 songs, playlists inside a genre), so a
station has room to play 500 songs without repeating one, and "stays on its seed" is checkable.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from tests.catalogs import generate, write_csv
from tests.conftest import GraphQLClient, LiveServer, error_codes, make_settings, new_listener

GENRES = ("rock", "pop", "edm", "jazz")
RADIO = """query($seed: RadioSeedInput!, $first: Int, $after: String) {
  radio(seed: $seed, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { score source reasons
      song { id artist genres audioFeatures { energy valence danceability acousticness } } } }
  } }"""
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"


@pytest.fixture(scope="module")
def settings(
    mongo_server: EmbeddedMongo, database_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    songs = generate(GENRES, 700, songs_per_artist=20)
    catalog = write_csv(songs, Path(tmp_path_factory.mktemp("catalog")) / "radio.csv")
    return make_settings(mongo_server.uri, database_name, MADHUR_CATALOG_FILE=str(catalog))


async def page(
    client: GraphQLClient, token: str, seed: dict[str, Any], first: int, after: str | None = None
) -> dict[str, Any]:
    body = await client.execute(RADIO, {"seed": seed, "first": first, "after": after}, token=token)
    assert not body.get("errors"), body["errors"]
    result: dict[str, Any] = body["data"]["radio"]
    return result


def songs_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"]["song"] for edge in result["edges"]]


async def an_artist(client: GraphQLClient, genre: str) -> dict[str, Any]:
    data = await client.data(
        """query($g: String!) { songs(first: 1, filter: {genre: $g}, order: POPULARITY) {
          edges { node { artist artistProfile { id name } } } } }""",
        {"g": genre},
    )
    artist: dict[str, Any] = data["songs"]["edges"][0]["node"]["artistProfile"]
    return artist


async def test_an_artist_station_is_that_artist_and_artists_like_it(
    client: GraphQLClient,
) -> None:
    token = await new_listener(client)
    seed = await an_artist(client, "jazz")
    similar = await client.data(
        "query($id: ID!) { artist(id: $id) { similarArtists(first: 50) { id name } } }",
        {"id": seed["id"]},
    )
    allowed = {a["name"] for a in similar["artist"]["similarArtists"]} | {seed["name"]}
    played: list[dict[str, Any]] = []
    after = None
    for _ in range(5):
        result = await page(client, token, {"artistId": seed["id"]}, 20, after)
        played += songs_of(result)
        after = result["pageInfo"]["endCursor"]
    assert len({s["id"] for s in played}) == 100
    artists = [s["artist"] for s in played]
    assert set(artists) <= allowed
    assert seed["name"] in artists
    assert sum("jazz" in s["genres"] for s in played) >= 90
    for start in range(len(artists) - 9):
        window = Counter(artists[start : start + 10])
        assert max(window.values()) <= 2, (start, window)


async def test_similar_artists_come_from_the_same_sound_and_playlists(
    client: GraphQLClient,
) -> None:
    for genre in GENRES:
        seed = await an_artist(client, genre)
        data = await client.data(
            """query($id: ID!) { artist(id: $id) { similarArtists(first: 10) {
              id name songs(first: 3) { edges { node { genres } } } } } }""",
            {"id": seed["id"]},
        )
        similar = data["artist"]["similarArtists"]
        assert len(similar) == 10 and seed["id"] not in {a["id"] for a in similar}
        same = sum(all(genre in e["node"]["genres"] for e in a["songs"]["edges"]) for a in similar)
        assert same >= 9, (genre, similar)


async def test_a_song_station_stays_near_its_song(client: GraphQLClient) -> None:
    token = await new_listener(client)
    data = await client.data(
        """{ songs(first: 1, filter: {genre: "edm"}, order: POPULARITY) {
          edges { node { id audioFeatures { energy acousticness } } } } }"""
    )
    seed = data["songs"]["edges"][0]["node"]
    result = await page(client, token, {"songId": seed["id"]}, 50)
    played = songs_of(result)
    assert len(played) == 50 and seed["id"] not in {s["id"] for s in played}
    assert sum("edm" in s["genres"] for s in played) >= 45
    assert all(edge["node"]["reasons"] for edge in result["edges"])


async def test_a_mood_station_keeps_its_mood(client: GraphQLClient) -> None:
    token = await new_listener(client)
    played: list[dict[str, Any]] = []
    after = None
    for _ in range(3):
        result = await page(client, token, {"mood": "CALM"}, 30, after)
        assert all(e["node"]["reasons"][0] == "On your calm station" for e in result["edges"])
        played += songs_of(result)
        after = result["pageInfo"]["endCursor"]
    assert len({s["id"] for s in played}) == 90
    energy = sum(s["audioFeatures"]["energy"] for s in played) / len(played)
    assert energy < 0.4, "the calm songs here are the generated jazz (energy ~0.3)"


async def test_a_station_bends_with_dislikes_recorded_while_it_plays(
    client: GraphQLClient,
) -> None:
    """Two listeners share the first page of an energetic station (rock and edm); one says
    "not for me" to its edm songs; the next page from the same cursor has less edm for them."""
    bent, control = await new_listener(client), await new_listener(client)
    first = await page(client, bent, {"mood": "ENERGETIC"}, 20)
    genres = Counter(g for s in songs_of(first) for g in s["genres"])
    assert genres["edm"] >= 3 and genres["rock"] >= 3
    for song in songs_of(first):
        if "edm" in song["genres"]:
            await client.execute(
                RECORD, {"i": {"songId": song["id"], "kind": "DISLIKE"}}, token=bent
            )
    cursor = first["pageInfo"]["endCursor"]
    after_bent = songs_of(await page(client, bent, {"mood": "ENERGETIC"}, 20, cursor))
    after_control = songs_of(await page(client, control, {"mood": "ENERGETIC"}, 20, cursor))
    edm = lambda songs: sum("edm" in s["genres"] for s in songs)  # noqa: E731
    assert edm(after_bent) < edm(after_control) / 2


async def test_seeds_and_cursors_are_checked(client: GraphQLClient) -> None:
    token = await new_listener(client)
    for seed in ({}, {"genre": "rock", "mood": "CALM"}):
        body = await client.execute(RADIO, {"seed": seed}, token=token)
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == "seed"
    body = await client.execute(RADIO, {"seed": {"genre": "polka"}}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await client.execute(RADIO, {"seed": {"songId": "0" * 24}}, token=token)
    assert error_codes(body) == ["NOT_FOUND"]
    body = await client.execute(RADIO, {"seed": {"genre": "rock"}, "after": "garbage"}, token=token)
    assert body["errors"][0]["extensions"]["field"] == "after"
    rock = await page(client, token, {"genre": "rock"}, 5)
    body = await client.execute(
        RADIO, {"seed": {"genre": "pop"}, "after": rock["pageInfo"]["endCursor"]}, token=token
    )
    assert body["errors"][0]["extensions"]["field"] == "after", "a cursor belongs to its station"
    body = await client.execute(RADIO, {"seed": {"genre": "rock"}, "first": 101}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_a_genre_station_plays_500_songs_without_repeats_on_any_worker(
    client: GraphQLClient, settings: Settings
) -> None:
    """Pages alternate between two API processes: the cursor alone carries the station.
    (Last in the module: stopping the second app closes the shared database client.)"""
    token = await new_listener(client)
    other = LiveServer(settings)
    await other.start()
    await other.wait_ready()
    try:
        async with httpx.AsyncClient(base_url=other.url, timeout=30) as http:
            clients = (client, GraphQLClient(http))
            played: list[dict[str, Any]] = []
            after = None
            for number in range(10):
                result = await page(clients[number % 2], token, {"genre": "rock"}, 50, after)
                assert result["pageInfo"]["hasNextPage"]
                played += songs_of(result)
                after = result["pageInfo"]["endCursor"]
                # an edge's cursor resumes right after that song
                assert result["edges"][-1]["cursor"] == after
    finally:
        await other.stop()
    assert len(played) == 500
    assert len({s["id"] for s in played}) == 500, "no song twice in 500"
    assert all("rock" in s["genres"] for s in played), "a genre station is that genre"
    assert result["totalCount"] >= 500
