"""Acknowledged means stored, by the application's own write concern.

The database here runs as an external server at its default durability (`secantusd-py`
without `--sync-on-commit`, as a standalone `mongod` runs by default: w:1, j:false), and the
app is pointed at it by MONGODB_URI. Under a stream of writes the server is SIGKILLed and
started again on the same files: every write the API acknowledged must be there.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from tests.conftest import GraphQLClient, LiveServer, make_settings, register_user

RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"
LIKE = "mutation($id: ID!) { like(songId: $id) { id } }"
STREAMS = 16
ROUNDS = 3  # kills; a kill loses the last few ms of unjournaled writes, so several
PER_ROUND = 80  # acknowledged writes between kills


@pytest.fixture(scope="module")
def default_durability_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedMongo]:
    server = EmbeddedMongo(tmp_path_factory.mktemp("default-durability"), sync_on_commit=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def settings(default_durability_server: EmbeddedMongo, database_name: str) -> Settings:
    # The URI even asks for unjournaled writes: the application's write concern wins.
    uri = default_durability_server.uri + "&w=1&journal=false"
    return make_settings(uri, database_name)


async def _stream(
    client: GraphQLClient,
    token: str,
    songs: list[str],
    stream: int,
    stop: asyncio.Event,
    acked: dict[str, str],
    liked: set[str],
    kill_at: int,
    kill: Callable[[], None],
) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        song = songs[(stream * 7 + n) % len(songs)]
        try:
            if n % 4 == 0:
                body = await client.execute(LIKE, {"id": song}, token=token)
                if (body.get("data") or {}).get("like"):
                    liked.add(song)
            else:
                key = f"s{stream}-{n}"
                variables = {"i": {"songId": song, "kind": "PLAY", "idempotencyKey": key}}
                body = await client.execute(RECORD, variables, token=token)
                if (body.get("data") or {}).get("recordInteraction"):
                    acked[body["data"]["recordInteraction"]["id"]] = song
                    if len(acked) == kill_at:
                        kill()  # SIGKILL right after an acknowledgement, writes in flight
                        stop.set()
        except httpx.HTTPError:
            await asyncio.sleep(0.05)


async def test_acknowledged_writes_survive_sigkills_of_the_database(
    settings: Settings, default_durability_server: EmbeddedMongo
) -> None:
    server = LiveServer(settings)
    await server.start()
    await server.wait_ready()
    acked: dict[str, str] = {}  # interaction id -> song id
    liked: set[str] = set()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            client = GraphQLClient(http)
            user = await register_user(client, f"durable-{uuid.uuid4().hex[:6]}@example.com")
            page = await client.data("{ songs(first: 50) { edges { node { id } } } }")
            # (the sample catalog's songs start with no plays and no likes)
            songs = [edge["node"]["id"] for edge in page["songs"]["edges"]]
            for round_ in range(ROUNDS):
                stop = asyncio.Event()
                streams = [
                    asyncio.create_task(
                        _stream(
                            client,
                            user["accessToken"],
                            songs,
                            i + 100 * round_,
                            stop,
                            acked,
                            liked,
                            len(acked) + PER_ROUND,
                            default_durability_server.kill,
                        )
                    )
                    for i in range(STREAMS)
                ]
                await asyncio.gather(*streams)
                default_durability_server.start()
                for _ in range(300):  # the API reconnects by itself
                    if (await http.get("/healthz")).status_code == 200:
                        break
                    await asyncio.sleep(0.1)
    finally:
        if not default_durability_server.running:
            default_durability_server.start()
        await server.stop()

    with MongoClient[dict[str, Any]](default_durability_server.uri) as mongo:
        db = mongo[settings.database_name]
        ids = [ObjectId(i) for i in acked]
        stored = db["interactions"].count_documents({"_id": {"$in": ids}})
        user_id = ObjectId(user["user"]["id"])
        stored_likes = {
            str(doc["song_id"]) for doc in db["likes"].find({"user_id": user_id}, {"song_id": 1})
        }
        plays: Counter[ObjectId] = Counter(
            doc["song_id"] for doc in db["interactions"].find({"kind": "PLAY"}, {"song_id": 1})
        )
        song_ids = [ObjectId(s) for s in songs]
        counters = {
            doc["_id"]: (doc["play_count"], doc["like_count"])
            for doc in db["songs"].find(
                {"_id": {"$in": song_ids}}, {"play_count": 1, "like_count": 1}
            )
        }
        likes_per_song: Counter[ObjectId] = Counter(
            doc["song_id"] for doc in db["likes"].find({"song_id": {"$in": song_ids}})
        )
    assert len(acked) >= ROUNDS * PER_ROUND
    assert stored == len(acked), f"{len(acked)} acknowledged, {stored} stored"
    assert liked <= stored_likes, f"acknowledged likes lost: {liked - stored_likes}"
    # Each acknowledged play and like moved its song's counter, and the move is stored too
    # (a write cut off by the kill may be stored without its counter: never the reverse).
    acked_plays = Counter(ObjectId(song) for song in acked.values())
    for song_id, (play_count, like_count) in counters.items():
        assert acked_plays[song_id] <= play_count <= plays[song_id], song_id
        assert (str(song_id) in liked) <= like_count <= likes_per_song[song_id], song_id


async def test_the_write_concern_is_the_applications_whatever_the_uri_says(
    settings: Settings,
) -> None:
    from madhur_gql.db.connection import init_database
    from madhur_gql.documents import Interaction, Like, Song

    client, _ = await init_database(str(settings.mongodb_uri), settings.database_name)
    try:
        assert "journal=false" in str(settings.mongodb_uri)
        for document in (Interaction, Like, Song):
            concern = document.get_pymongo_collection().write_concern
            assert (concern.document.get("w"), concern.document.get("j")) == ("majority", True)
        assert client.write_concern.document.get("j") is True
    finally:
        await client.close()
