"""A rebuild runs in another process: the API answers throughout, and nothing recorded is lost.

The build is held at a gate (a file the test creates) after the child has read its snapshot,
so requests provably complete while it is still running, and a like recorded meanwhile is
provably missing from the snapshot: the new engine must still count it, once.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import pytest

from madhur_gql.documents import Interaction
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.values import CatalogItems, Event
from madhur_gql.services.recommendations import RecommendationService
from madhur_gql.services.recommendations.builder import EngineBuilder
from tests.conftest import GraphQLClient, LiveServer, register_user
from tests.test_recommendations import RECORD, recs, search

GATE_TIMEOUT_SECONDS = 120  # generous: a sanity bound so a broken test cannot hang the run


def gated_build(
    started: Path, gate: Path, items: CatalogItems, events: Iterable[Event], **options: Any
) -> RecommenderEngine:
    """Runs in the build's child process: say the snapshot is read, wait for the gate, build."""
    started.touch()
    deadline = time.monotonic() + GATE_TIMEOUT_SECONDS
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return RecommenderEngine.build(items, events, **options)


@pytest.fixture(scope="module")
async def recommendations(live_server: LiveServer) -> AsyncIterator[RecommendationService]:
    service: RecommendationService = live_server.app.state.services.recommendations
    yield service


async def wait_for(path: Path) -> None:
    deadline = asyncio.get_running_loop().time() + GATE_TIMEOUT_SECONDS
    while not await asyncio.to_thread(path.exists):
        assert asyncio.get_running_loop().time() < deadline, f"{path.name} never appeared"
        await asyncio.sleep(0.02)


async def test_requests_answer_during_a_rebuild_and_its_engine_counts_what_came_meanwhile(
    client: GraphQLClient, recommendations: RecommendationService, tmp_path: Path
) -> None:
    token = (await register_user(client))["accessToken"]
    liked = (await search(client, "love", first=1))[0]
    before = recommendations.engine
    assert before is not None
    default_builder = recommendations.builder
    started, gate = tmp_path / "started", tmp_path / "gate"
    recommendations.builder = EngineBuilder(
        default_builder.source, functools.partial(gated_build, started, gate)
    )
    rebuild = asyncio.create_task(recommendations.rebuild())
    try:
        await wait_for(started)  # the child has its snapshot; the build is held at the gate

        body = await client.execute(RECORD, {"i": {"songId": liked, "kind": "LIKE"}}, token=token)
        assert not body.get("errors"), body["errors"]
        assert (await client.data("{ __typename }")) == {"__typename": "Query"}
        during = await recs(client, token)
        assert during, "recommendations answered from the engine in use"
        assert not rebuild.done() and recommendations.engine is before

        gate.touch()
        await asyncio.wait_for(rebuild, GATE_TIMEOUT_SECONDS)
    finally:
        gate.touch()
        recommendations.builder = default_builder
    after = recommendations.engine
    assert after is not None and after is not before
    stored = await Interaction.find_all().count()
    assert after.stats()["events"] == stored  # the like made during the build, counted once
    picks = await recs(client, token)  # the new engine knows the like: picks stand on it
    name = await song_name(client, liked)
    assert liked not in {p["song"]["id"] for p in picks}
    assert any(name in reason for p in picks for reason in p["reasons"])


async def song_name(client: GraphQLClient, song_id: str) -> str:
    data = await client.data("query($id: ID!) { song(id: $id) { title artist } }", {"id": song_id})
    return f"{data['song']['title']} by {data['song']['artist']}"


async def test_ctrl_c_at_the_terminal_leaves_a_build_to_the_server(
    recommendations: RecommendationService, tmp_path: Path
) -> None:
    """Ctrl-C signals the build process too; the build goes on until the server stops it."""
    before = recommendations.engine
    default_builder = recommendations.builder
    started, gate = tmp_path / "started", tmp_path / "gate"
    builder = EngineBuilder(default_builder.source, functools.partial(gated_build, started, gate))
    recommendations.builder = builder
    rebuild = asyncio.create_task(recommendations.rebuild())
    try:
        await wait_for(started)
        child = builder._child
        assert child is not None and child.pid is not None
        os.kill(child.pid, signal.SIGINT)
        gate.touch()
        await asyncio.wait_for(rebuild, GATE_TIMEOUT_SECONDS)
    finally:
        gate.touch()
        recommendations.builder = default_builder
    assert recommendations.engine is not None and recommendations.engine is not before
