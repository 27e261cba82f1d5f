"""The consistency contract (README, "Serving from memory"), with two app processes' worth of
state on one database: two apps in this test process, each with its own memory and its own
change feed, as two workers or two replicas would be.

- a caller reads their own writes on every worker at once;
- another process's changes to shared data appear within 1 s;
- a revoked token is refused everywhere within 1 s;
- one door into memory: a write and its echo apply once, a repeated LIKE is fed once.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from madhur_gql.config import Settings
from madhur_gql.services.live import LiveState
from tests.conftest import GraphQLClient, LiveServer, error_codes, register_user

CONTRACT_SECONDS = 1.0
SONG = "query($id: ID!) { song(id: $id) { likeCount playCount likedByMe } }"
LIKE = "mutation($id: ID!) { like(songId: $id) { likeCount } }"
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"


class Worker:
    def __init__(self, server: LiveServer, http: httpx.AsyncClient) -> None:
        self.server = server
        self.client = GraphQLClient(http)

    @property
    def live(self) -> LiveState:
        live: LiveState = self.server.app.state.services.history.live
        return live

    def recommender_events(self) -> int:
        engine = self.server.app.state.services.recommendations.engine
        assert engine is not None
        return int(engine.profiles.events)

    async def song(self, song_id: str, token: str) -> dict[str, Any]:
        body = await self.client.execute(SONG, {"id": song_id}, token=token)
        assert not body.get("errors"), body
        song: dict[str, Any] = body["data"]["song"]
        return song


@pytest.fixture(scope="module")
async def workers(settings: Settings) -> AsyncIterator[tuple[Worker, Worker]]:
    servers = [LiveServer(settings), LiveServer(settings)]
    for server in servers:
        await server.start()
    for server in servers:
        await server.wait_ready()
    async with (
        httpx.AsyncClient(base_url=servers[0].url, timeout=30) as a,
        httpx.AsyncClient(base_url=servers[1].url, timeout=30) as b,
    ):
        yield Worker(servers[0], a), Worker(servers[1], b)
    for server in servers:
        await server.stop()


@pytest.fixture(scope="module")
async def song_ids(workers: tuple[Worker, Worker]) -> list[str]:
    page = await workers[0].client.data("{ songs(first: 40) { edges { node { id } } } }")
    return [edge["node"]["id"] for edge in page["songs"]["edges"]]


async def until(check: Any, seconds: float = CONTRACT_SECONDS) -> float:
    """Seconds until `check()` holds; fails when it does not within `seconds`."""
    started = time.perf_counter()
    while not await check():
        elapsed = time.perf_counter() - started
        assert elapsed < seconds, f"not within {seconds} s"
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


async def refused(worker: Worker, token: str) -> bool:
    """Whether the worker now turns the token away."""
    body = await worker.client.execute("{ myHistory { totalCount } }", token=token)
    return error_codes(body) == ["UNAUTHENTICATED"]


async def quiet(*workers: Worker, seconds: float = 0.5) -> None:
    """Until no interaction has reached any of the workers' memory for `seconds`."""
    for _ in range(20):
        before = [w.live.interactions_applied for w in workers]
        await asyncio.sleep(seconds)
        if [w.live.interactions_applied for w in workers] == before:
            return
    raise AssertionError("interactions kept arriving")


async def test_own_like_is_read_back_on_the_other_worker_at_once(
    workers: tuple[Worker, Worker], song_ids: list[str]
) -> None:
    a, b = workers
    token = (await register_user(a.client))["accessToken"]
    song = song_ids[0]
    before = await b.song(song, token)
    liked = await a.client.execute(LIKE, {"id": song}, token=token)
    assert liked["data"]["like"]["likeCount"] == before["likeCount"] + 1
    on_b = await b.song(song, token)  # no waiting: the caller's own write
    assert on_b["likedByMe"] is True

    async def count_arrived() -> bool:
        return (await b.song(song, token))["likeCount"] == before["likeCount"] + 1

    await until(count_arrived)  # shared data: within the contract's second


async def test_another_processs_plays_appear_within_a_second(
    workers: tuple[Worker, Worker], song_ids: list[str]
) -> None:
    a, b = workers
    token = (await register_user(b.client))["accessToken"]
    song = song_ids[1]
    before = (await a.song(song, token))["playCount"]
    for n in range(3):
        variables = {"i": {"songId": song, "kind": "PLAY", "idempotencyKey": f"p{n}"}}
        assert not (await b.client.execute(RECORD, variables, token=token)).get("errors")
    assert (await b.song(song, token))["playCount"] == before + 3

    async def plays_arrived() -> bool:
        return (await a.song(song, token))["playCount"] == before + 3

    await until(plays_arrived)


async def test_a_like_appears_within_a_second_while_the_database_is_busy(
    workers: tuple[Worker, Worker], song_ids: list[str], settings: Settings
) -> None:
    """Under a steady stream of writes a change stream never runs dry (every getMore brings
    one or two changes); what it brings is still applied within the contract's second. It
    waited for 1,000 changes to gather: seconds on a busy database."""
    a, b = workers
    token = (await register_user(b.client))["accessToken"]
    busy, song = ObjectId(song_ids[5]), song_ids[6]
    before = (await a.song(song, token))["likeCount"]
    stop = threading.Event()

    def another_process_counting_plays() -> None:  # a thread: the test's loop may stall
        client: MongoClient[dict[str, Any]] = MongoClient(settings.mongodb_uri)
        with client:
            songs = client[settings.database_name]["songs"]
            while not stop.is_set():
                songs.update_one({"_id": busy}, {"$inc": {"play_count": 1}})
                time.sleep(0.002)

    writer = threading.Thread(target=another_process_counting_plays)
    writer.start()
    try:
        await asyncio.sleep(0.5)  # the streams are busy now
        assert not (await b.client.execute(LIKE, {"id": song}, token=token)).get("errors")

        async def like_arrived() -> bool:
            return (await a.song(song, token))["likeCount"] == before + 1

        await until(like_arrived)
    finally:
        stop.set()
        await asyncio.to_thread(writer.join)


async def test_a_write_and_its_echo_apply_once_and_a_repeated_like_is_fed_once(
    workers: tuple[Worker, Worker], song_ids: list[str]
) -> None:
    a, b = workers
    token = (await register_user(a.client))["accessToken"]
    song = song_ids[2]
    await quiet(a, b)  # the echoes of earlier tests' writes are in
    events = (a.recommender_events(), b.recommender_events())
    applied = (a.live.interactions_applied, b.live.interactions_applied)
    skipped = a.live.duplicates_skipped
    for _ in range(2):  # the second LIKE changes nothing: history only
        variables = {"i": {"songId": song, "kind": "LIKE"}}
        assert not (await a.client.execute(RECORD, variables, token=token)).get("errors")

    async def both_applied() -> bool:
        return b.live.interactions_applied >= applied[1] + 2 and (
            a.live.duplicates_skipped >= skipped + 2  # both echoes came back to A
        )

    await until(both_applied)
    await asyncio.sleep(0.2)  # nothing more may arrive
    assert a.live.interactions_applied == applied[0] + 2
    assert b.live.interactions_applied == applied[1] + 2
    assert (a.recommender_events(), b.recommender_events()) == (events[0] + 1, events[1] + 1)
    history = await a.client.execute("{ myHistory { totalCount } }", token=token)
    assert history["data"]["myHistory"]["totalCount"] == 2
    assert (await b.song(song, token))["likeCount"] == (await a.song(song, token))["likeCount"]


async def test_a_revoked_token_is_refused_everywhere_within_a_second(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    email = f"revoke-{uuid.uuid4().hex[:6]}@example.com"
    for revoke in (
        "mutation { logoutEverywhere }",
        'mutation { deleteMe(password: "correct horse battery") }',
    ):
        session = await register_user(a.client, email) if "delete" in revoke else None
        if session is None:
            session = await register_user(a.client, "first-" + email)
        token = session["accessToken"]
        assert not (await b.client.execute("{ me { id } }", token=token)).get("errors")
        # B now holds the account in its short-lived cache; A revokes.
        assert not (await a.client.execute(revoke, token=token)).get("errors")
        assert error_codes(await a.client.execute("{ me { id } }", token=token)) == [
            "UNAUTHENTICATED"
        ]

        await until(lambda token=token: refused(b, token))


async def test_a_revocation_is_refused_within_a_second_when_the_users_stream_is_down(
    workers: tuple[Worker, Worker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The accounts' cache outlives its 0.5 s only while the users stream vouches for it: with
    B's stream silent and unable to vouch, B still refuses a revoked token within the second."""
    a, b = workers
    accounts = b.server.app.state.services.accounts
    monkeypatch.setattr(b.live, "user_changed", lambda user_id: None)  # the echo never comes
    monkeypatch.setattr(accounts, "users_caught_up", lambda: -math.inf)
    token = (await register_user(a.client))["accessToken"]
    assert not (await b.client.execute("{ myHistory { totalCount } }", token=token)).get("errors")
    assert not (await a.client.execute("mutation { logoutEverywhere }", token=token)).get("errors")

    await until(lambda: refused(b, token))


async def test_while_the_users_stream_vouches_an_account_is_not_reread_per_request(
    workers: tuple[Worker, Worker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listener's requests over two seconds read their account once, not every 0.5 s."""
    a, b = workers
    accounts = b.server.app.state.services.accounts
    reads: list[str] = []
    read_user = accounts._read_user

    async def counted(user_id: str) -> Any:
        reads.append(user_id)
        return await read_user(user_id)

    monkeypatch.setattr(accounts, "_read_user", counted)
    token = (await register_user(a.client))["accessToken"]
    until_at = time.monotonic() + 2.0
    while time.monotonic() < until_at:
        body = await b.client.execute("{ myHistory { totalCount } }", token=token)
        assert not body.get("errors"), body
        await asyncio.sleep(0.05)
    assert len(reads) == 1


async def test_a_deleted_accounts_plays_leave_trending_on_every_worker(
    workers: tuple[Worker, Worker], song_ids: list[str]
) -> None:
    """deleteMe through one worker takes the account's plays out of the other's trending too
    (the users change stream's delete comes through that worker's one door)."""
    a, b = workers
    token = (await register_user(a.client))["accessToken"]
    song = song_ids[-1]  # the 40th most popular: outside the top 5 unless it is played
    for n in range(5):
        variables = {"i": {"songId": song, "kind": "PLAY", "idempotencyKey": f"d{n}"}}
        assert not (await a.client.execute(RECORD, variables, token=token)).get("errors")

    async def trending_on_b() -> list[str]:
        body = await b.client.data("{ trending(first: 5) { edges { node { id } } } }")
        return [edge["node"]["id"] for edge in body["trending"]["edges"]]

    async def played_on_b() -> bool:
        return song in await trending_on_b()

    await until(played_on_b)
    deleted = await a.client.execute(
        'mutation { deleteMe(password: "correct horse battery") }', token=token
    )
    assert deleted["data"] == {"deleteMe": True}, deleted

    async def gone_on_b() -> bool:
        return song not in await trending_on_b()

    await until(gone_on_b)
