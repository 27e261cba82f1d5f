"""Group commit on the real server: concurrent writes share batches and keep their meaning."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from madhur_gql.db.connection import WRITE_CONCERN
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.db.group_commit import GroupCommit, Increment


@pytest.fixture
async def database(
    mongo_server: EmbeddedMongo, database_name: str
) -> AsyncIterator[AsyncDatabase[Any]]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_server.uri)
    db = client.get_database(database_name + ObjectId().__str__()[-6:], write_concern=WRITE_CONCERN)
    await db["likes"].create_index([("user", ASCENDING), ("song", ASCENDING)], unique=True)
    await db["songs"].insert_many([{"_id": i, "likes": 0, "plays": 0} for i in range(5)])
    yield db
    await client.drop_database(db.name)
    await client.close()


@pytest.fixture
async def commit(database: AsyncDatabase[Any]) -> AsyncIterator[GroupCommit]:
    group = GroupCommit(database, window=0.002)
    group.start()
    yield group
    await group.stop()


def like(user: int, song: int) -> tuple[dict[str, Any], Increment]:
    return {"_id": ObjectId(), "user": user, "song": song}, Increment("songs", song, "likes", 1)


async def test_concurrent_writes_share_batches_and_are_all_stored(
    commit: GroupCommit, database: AsyncDatabase[Any]
) -> None:
    docs = [{"_id": ObjectId(), "n": n} for n in range(200)]
    stored = await asyncio.gather(*(commit.insert("events", doc) for doc in docs))
    plays = await asyncio.gather(
        *(commit.increment(Increment("songs", n % 5, "plays")) for n in range(100))
    )
    assert stored == [True] * 200
    assert await database["events"].count_documents({}) == 200
    assert commit.batches <= 10, "200 concurrent writes should not need 200 commits"
    assert {doc["_id"]: doc["plays"] async for doc in database["songs"].find()} == dict.fromkeys(
        range(5), 20
    )
    assert max(value for value in plays if value is not None) == 20


async def test_a_duplicate_is_refused_and_moves_no_counter(
    commit: GroupCommit, database: AsyncDatabase[Any]
) -> None:
    first, bump = like(user=1, song=2)
    again = {**first, "_id": ObjectId()}
    results = await asyncio.gather(
        commit.insert("likes", first, then=bump), commit.insert("likes", again, then=bump)
    )
    assert sorted(results, key=str) == [1, None]
    assert (await database["songs"].find_one({"_id": 2}) or {})["likes"] == 1
    assert await commit.insert("likes", {**first, "_id": ObjectId()}) is False


async def test_a_like_then_an_unlike_in_one_batch_ends_unliked(
    commit: GroupCommit, database: AsyncDatabase[Any]
) -> None:
    doc, bump = like(user=7, song=3)
    unbump = Increment("songs", 3, "likes", -1)
    liked, unliked = await asyncio.gather(
        commit.insert("likes", doc, then=bump),
        commit.delete_one("likes", {"user": 7, "song": 3}, then=unbump),
    )
    assert commit.batches == 1
    assert (liked, unliked) == (0, 0)  # both applied: the counter's value after the batch
    assert await database["likes"].count_documents({"user": 7}) == 0
    assert await commit.delete_one("likes", {"user": 7, "song": 3}, then=unbump) is None


async def test_a_missing_document_has_no_counter(commit: GroupCommit) -> None:
    assert await commit.increment(Increment("songs", 999, "plays")) is None


async def test_a_follow_up_is_stored_in_the_same_batch_only_after_a_real_change(
    commit: GroupCommit, database: AsyncDatabase[Any]
) -> None:
    """A like's history entry shares its like's commit, and a repeated like stores none."""
    doc, bump = like(user=4, song=1)
    entries = [{"_id": ObjectId(), "n": n} for n in range(3)]
    outcomes = await asyncio.gather(
        commit.insert("likes", doc, then=bump, follow=("history", entries[0])),
        commit.insert(
            "likes", {**doc, "_id": ObjectId()}, then=bump, follow=("history", entries[1])
        ),
        commit.delete_one(
            "likes", {"user": 4, "song": 9}, then=bump, follow=("history", entries[2])
        ),
    )
    assert commit.batches == 1
    stored = [entries[i]["n"] for i, outcome in enumerate(outcomes) if outcome is not None]
    assert len(stored) == 1  # one of the two likes; the other was a duplicate, nothing unliked
    assert [d["n"] async for d in database["history"].find()] == stored
