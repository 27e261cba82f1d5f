"""Local music: a listener's languages and country lift local songs, measured on generated songs.

The catalog is 1,000 invented songs of which 5% (chosen at random, same sound as the rest) are
Nepali (`language: "ne"`, `country: "NP"`); no real song is given a language here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from tests.catalogs import generate, write_csv
from tests.conftest import GraphQLClient, LiveServer, make_settings, new_listener

RECS = "{ recommendations(first: 20) { song { id language country } } }"
RADIO = """query($genre: String!) { radio(seed: {genre: $genre}, first: 20) {
  edges { node { song { language } } } } }"""
JOURNEY = "{ moodJourney(from: HAPPY, to: CHILL, length: 20) { song { language } } }"
MIXES = "{ myMixes(count: 2, size: 10) { songs { song { language } } } }"


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    songs = generate(("rock", "pop", "edm", "jazz", "hip hop"), 200, local_share=0.05)
    assert sum(s.language == "ne" for s in songs) == 50
    return write_csv(songs, Path(tmp_path_factory.mktemp("catalog")) / "local.csv")


@pytest.fixture(scope="module")
def settings(mongo_server: EmbeddedMongo, database_name: str, catalog_file: Path) -> Settings:
    return make_settings(mongo_server.uri, database_name, MADHUR_CATALOG_FILE=str(catalog_file))


def nepali_share(songs: list[dict[str, Any]]) -> float:
    assert songs
    return sum(s["language"] == "ne" for s in songs) / len(songs)


async def first_list(client: GraphQLClient, token: str) -> list[dict[str, Any]]:
    body = await client.execute(RECS, token=token)
    assert not body.get("errors"), body["errors"]
    return [p["song"] for p in body["data"]["recommendations"]]


async def test_a_nepali_preferring_newcomer_gets_local_songs_in_their_first_list(
    client: GraphQLClient,
) -> None:
    local = await new_listener(client, preferredLanguages=["ne"])
    plain = await new_listener(client)
    theirs = await first_list(client, local)
    assert nepali_share(theirs) >= 0.30
    assert all(s["country"] == "NP" for s in theirs if s["language"] == "ne")
    assert nepali_share(await first_list(client, plain)) <= 0.15, "near the 5% base rate"
    by_country = await new_listener(client, country="NP")
    assert nepali_share(await first_list(client, by_country)) >= 0.30


async def test_the_lift_reaches_every_personal_list(client: GraphQLClient) -> None:
    local = await new_listener(client, preferredLanguages=["ne"], country="NP")
    plain = await new_listener(client)
    for query in (JOURNEY, MIXES):
        shares = []
        for token in (local, plain):
            body = await client.execute(query, token=token)
            assert not body.get("errors"), body["errors"]
            data = next(iter(body["data"].values()))
            songs = (
                [p["song"] for mix in data for p in mix["songs"]]
                if query is MIXES
                else [p["song"] for p in data]
            )
            shares.append(nepali_share(songs))
        # a journey's songs must sit on its path, so fewer candidates can be lifted into it
        assert shares[0] >= shares[1] + (0.15 if query is MIXES else 0.05), (query, shares)
    for token, expected in ((local, True), (plain, False)):
        body = await client.execute(RADIO, {"genre": "pop"}, token=token)
        songs = [e["node"]["song"] for e in body["data"]["radio"]["edges"]]
        assert (nepali_share(songs) >= 0.3) is expected


async def test_the_lift_is_tunable(client: GraphQLClient, settings: Settings) -> None:
    """With MADHUR_LOCAL_LIFT=0 the same listener is back at the base rate."""
    token = await new_listener(client, preferredLanguages=["ne"])
    assert nepali_share(await first_list(client, token)) >= 0.30
    flat = LiveServer(settings.model_copy(update={"local_lift": 0.0}))
    await flat.start()
    await flat.wait_ready()
    try:
        async with httpx.AsyncClient(base_url=flat.url, timeout=30) as http:
            assert nepali_share(await first_list(GraphQLClient(http), token)) <= 0.15
    finally:
        await flat.stop()
