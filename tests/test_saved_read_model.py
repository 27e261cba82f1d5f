"""A later start loads the read model the last one saved, and every song change made since."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.services.catalog import saved
from madhur_gql.services.catalog.index import CatalogIndex
from madhur_gql.services.catalog.store import SongStore
from tests.conftest import GraphQLClient, LiveServer, make_settings

SONG = "query($id: ID!) { song(id: $id) { title } }"
COUNT = "{ songs(first: 2) { totalCount edges { node { id } } } }"


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield GraphQLClient(http)


@pytest.fixture
async def mongo(mongo_server: EmbeddedMongo) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    yield client
    await client.close()


async def serve_once(settings: Settings) -> tuple[int, list[str]]:
    """Start, answer, stop (which saves the read model): the count and two song ids."""
    server = LiveServer(settings)
    await server.start()
    try:
        await server.wait_ready()
        async with connected(server.url) as client:
            page = (await client.data(COUNT))["songs"]
    finally:
        await server.stop()
    return page["totalCount"], [edge["node"]["id"] for edge in page["edges"]]


async def test_a_later_start_shows_every_change_made_while_it_was_down(
    mongo_server: EmbeddedMongo, mongo: AsyncMongoClient[dict[str, Any]], tmp_path: Path
) -> None:
    file = tmp_path / "read-model.pickle"
    settings = make_settings(
        mongo_server.uri, "t_saved_read_model", MADHUR_READ_MODEL_FILE=str(file)
    )
    total, (renamed, deleted) = await serve_once(settings)
    assert file.exists()

    songs = mongo["t_saved_read_model"]["songs"]
    await songs.update_one(
        {"_id": ObjectId(renamed)}, {"$set": {"title": "Written While Down", "like_count": 7}}
    )
    await songs.delete_one({"_id": ObjectId(deleted)})
    added = await songs.find_one({"_id": ObjectId(renamed)})
    assert added is not None
    added.update(_id=ObjectId(), track_id="added0000000000000000001", title="Added While Down")
    await songs.insert_one(added)

    server = LiveServer(settings)
    await server.start()  # serving: the changes are in memory already, no waiting
    try:
        async with connected(server.url) as client:
            assert (await client.data(COUNT))["songs"]["totalCount"] == total
            song = await client.data(SONG, {"id": renamed})
            assert song["song"]["title"] == "Written While Down"
            gone = await client.execute(SONG, {"id": deleted})
            assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            new = await client.data(SONG, {"id": str(added["_id"])})
            assert new["song"]["title"] == "Added While Down"
    finally:
        await server.stop()


async def test_a_saved_model_the_stream_cannot_resume_from_is_read_afresh(
    mongo_server: EmbeddedMongo, tmp_path: Path
) -> None:
    file = tmp_path / "read-model.pickle"
    settings = make_settings(mongo_server.uri, "t_saved_stale", MADHUR_READ_MODEL_FILE=str(file))
    total, _ = await serve_once(settings)
    # A position the oplog does not hold, with an empty catalog saved at it.
    saved.save(file, {"_data": "826A0000000000000000"}, CatalogIndex(), SongStore())

    again, _ = await serve_once(settings)
    assert again == total
    loaded = saved.load(file)
    assert loaded is not None and len(loaded.store) == total, "saved afresh at shutdown"


async def test_a_saved_model_that_does_not_match_the_database_is_read_afresh(
    mongo_server: EmbeddedMongo, tmp_path: Path
) -> None:
    """At a position the stream resumes from, but holding none of the songs (a file from
    another database): the start counts the songs and reads them afresh."""
    file = tmp_path / "read-model.pickle"
    settings = make_settings(mongo_server.uri, "t_saved_other", MADHUR_READ_MODEL_FILE=str(file))
    total, _ = await serve_once(settings)
    loaded = saved.load(file)
    assert loaded is not None
    saved.save(file, loaded.resume_token, CatalogIndex(), SongStore())

    again, _ = await serve_once(settings)
    assert again == total
