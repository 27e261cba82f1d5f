"""The recommender build in another process, so the API's event loop never waits for it.

A build is CPU-bound Python and numpy for seconds (minutes at a million songs); in a thread it
holds the GIL and every request stalls behind it. Here a child process (forkserver, or spawn
where fork servers are missing) reads its own snapshot of the catalog and the interactions
straight from the database, builds the engine with whatever ``build`` function it is given
(a pure function of catalog items and events), and ships the finished engine back pickled
(through a temporary file). The parent's loop only waits on a future; the one real cost it
pays is unpickling the engine (mostly numpy buffers), done in a worker thread.

The child also returns the ids of the interactions its snapshot held, so the service can
replay onto the new engine exactly those events it recorded during the build that the
snapshot missed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import pickle
import resource
import signal
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from pathlib import Path
from typing import Any

import numpy as np
from bson import ObjectId
from pymongo import MongoClient

from madhur_gql.documents import Interaction, Song, User
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.served import build_served
from madhur_gql.recommender.values import Event
from madhur_gql.services.accounts.standing import ListenerStanding, StandingRules
from madhur_gql.services.catalog.songs import SNAPSHOT_BATCH, SNAPSHOT_FIELDS
from madhur_gql.services.recommendations.snapshot import (
    EVENTS_BATCH,
    catalog_items,
    event_from_doc,
)

# (items, events, listener_weights=...) -> engine: build_served; test builds wrap the engine's build
BuildFn = Callable[..., RecommenderEngine]
# A LIKE that changed nothing (the song was liked already) is history, not a second signal.
EVENTS_FILTER: dict[str, Any] = {"repeated": {"$ne": True}}
SERVER_SELECTION_TIMEOUT_MS = 5000
BUILD_NICENESS = 10


@dataclass(frozen=True, slots=True)
class SnapshotSource:
    """Where the child reads its snapshot: the same database the API process uses."""

    uri: str
    database: str
    standing: StandingRules = dataclasses.field(default_factory=StandingRules)  # shared graphs


@dataclass(frozen=True, slots=True)
class Built:
    engine: RecommenderEngine
    interaction_ids: np.ndarray  # sorted 12-byte ObjectIds (dtype S12) of the snapshot's events
    songs: int
    build_seconds: float  # in the child: snapshot read + build
    child_peak_rss_bytes: int
    shipped_bytes: int = 0  # size of the pickled result
    load_seconds: float = 0.0  # unpickling it in this process
    listener_weights: dict[str, float] = dataclasses.field(default_factory=dict)  # standing

    def missing(self, interaction_ids: Sequence[str]) -> list[bool]:
        """For each id: True when the snapshot does not hold that interaction."""
        if not interaction_ids:
            return []
        wanted = np.array([ObjectId(i).binary for i in interaction_ids], dtype="S12")
        return [not found for found in np.isin(wanted, self.interaction_ids)]


def build_from_database(source: SnapshotSource, build: BuildFn) -> str:
    """Runs in the child: snapshot, build, pickle to a file; returns the file's path.

    Through a file, not the pool's pipe: the parent streams the engine in instead of holding
    the pickled bytes and the engine at once (at a million songs each is most of a GiB).
    """
    started = time.perf_counter()
    client: MongoClient[dict[str, Any]] = MongoClient(
        source.uri, tz_aware=True, serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS
    )
    try:
        db = client[source.database]
        projection = dict.fromkeys(SNAPSHOT_FIELDS, 1)
        songs = list(db[Song.Settings.name].find({}, projection, batch_size=SNAPSHOT_BATCH))
        ids: list[bytes] = []
        events: list[Event] = []
        cursor = db[Interaction.Settings.name].find(EVENTS_FILTER, batch_size=EVENTS_BATCH)
        for doc in cursor:
            ids.append(doc["_id"].binary)
            events.append(event_from_doc(doc))
        accounts = [
            (str(doc["_id"]), doc["created_at"])
            for doc in db[User.Settings.name].find({}, {"created_at": 1})
            if doc.get("created_at") is not None
        ]
    finally:
        client.close()
    items = catalog_items(songs)
    del songs
    weights = ListenerStanding(source.standing).weights_for(
        ((e.user_id, e.item_id) for e in events), accounts
    )
    engine = build(items, events, listener_weights=weights)
    built = Built(
        engine=engine,
        interaction_ids=np.sort(np.array(ids, dtype="S12")),
        listener_weights=weights,
        songs=len(items.ids),
        build_seconds=time.perf_counter() - started,
        child_peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    )
    with tempfile.NamedTemporaryFile("wb", prefix="madhur-engine-", delete=False) as out:
        pickle.dump(built, out, protocol=pickle.HIGHEST_PROTOCOL)
    return out.name


def _load(path: Path) -> tuple[Built, int]:
    """The child's result and its size in bytes; the file is gone afterwards."""
    try:
        with path.open("rb") as engine_file:
            built: Built = pickle.load(engine_file)  # noqa: S301 - written by our own child
        return built, path.stat().st_size
    finally:
        path.unlink(missing_ok=True)


def _context() -> ForkServerContext | SpawnContext:
    """Not fork: the API process has threads (and a loop) a forked child must not inherit."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


class BuildFailed(RuntimeError):
    """The child raised, or died (killed, out of memory) before shipping an engine."""


class EngineBuilder:
    """Builds engines in a child process: one build at a time, a fresh process for each.

    A fresh process per build hands the build's peak memory back to the system when it ends
    (a parked worker would keep it), and ``close`` can stop a build in flight at shutdown.
    """

    def __init__(self, source: SnapshotSource, build: BuildFn = build_served) -> None:
        self.source = source
        self._build = build
        self._child: multiprocessing.process.BaseProcess | None = None

    async def build(self) -> Built:
        context = _context()
        receive, send = context.Pipe(duplex=False)
        child = context.Process(
            target=_child_main,
            args=(self.source, self._build, send),
            name="recommender-build",
            daemon=True,
        )
        # Starting a child (the first time, the fork server too) waits on it: not on the loop.
        await asyncio.to_thread(child.start)
        send.close()
        self._child = child
        try:
            path = Path(await asyncio.to_thread(_receive, receive, child))
            started = time.perf_counter()
            built, size = await asyncio.to_thread(_load, path)
        finally:
            receive.close()
            self.close()
        return dataclasses.replace(
            built, shipped_bytes=size, load_seconds=time.perf_counter() - started
        )

    def close(self) -> None:
        """Stop the child if it is still building (at shutdown: no orphaned build)."""
        child, self._child = self._child, None
        if child is not None:
            if child.is_alive():
                child.terminate()
            child.join(timeout=5)


def _child_main(source: SnapshotSource, build: BuildFn, send: Connection) -> None:
    # Background work: when cores are short, requests in the API process go first.
    os.nice(BUILD_NICENESS)
    # Ctrl-C at the terminal reaches the whole process group: stopping is the server's to
    # decide (it ends a build in flight with `close`), not a failed build with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        send.send((True, build_from_database(source, build)))
    except BaseException:
        send.send((False, traceback.format_exc()))
    finally:
        send.close()


def _receive(receive: Connection, child: multiprocessing.process.BaseProcess) -> str:
    try:
        ok, payload = receive.recv()
    except EOFError:
        child.join(timeout=5)
        raise BuildFailed(f"the build process died (exit code {child.exitcode})") from None
    if not ok:
        raise BuildFailed(f"the build process failed:\n{payload}")
    return str(payload)
