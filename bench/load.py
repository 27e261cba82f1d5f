"""Load and fault run against the real stack on loopback: `madhur-gql serve` on SecantusDB.

Virtual listeners send a 70/30 read/write mix for a fixed time. Every write carries an
idempotency key and is retried with it until acknowledged, as a careful client would; at the
end the database is compared with what the API acknowledged. With --kill-db-at the database
is killed mid-run and restarted --db-down seconds later.

    .venv/bin/python bench/load.py --seconds 60 --users 32 --workers 2
    .venv/bin/python bench/load.py --seconds 60 --users 32 --workers 2 --kill-db-at 20 --db-down 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from madhur_gql.db.embedded import EmbeddedMongo, free_port  # noqa: E402

CLI = Path(sys.executable).parent / "madhur-gql"
DB_NAME = "madhur"
API_LOG = ROOT / "bench" / "results" / "load-api.log"

SONGS = "query($s: String, $a: String) { songs(first: 20, search: $s, after: $a) { edges { cursor node { id title likeCount } } } }"
RECS = "{ recommendations(first: 20) { score source song { id } } }"
SIMILAR = "query($id: ID!) { similarSongs(songId: $id, first: 10) { score song { id } } }"
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"
LIKE = "mutation($id: ID!) { like(songId: $id) { id } }"
ADD = "mutation($p: ID!, $s: [ID!]!, $k: String) { addSongsToPlaylist(id: $p, songIds: $s, idempotencyKey: $k) { songCount } }"
SEARCH_TERMS = ["love", "the", "queen", "night", "remix", "you", "ed", "dance", None, None]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    outage_codes: Counter[str] = field(default_factory=Counter)
    recorded: dict[str, str] = field(default_factory=dict)  # idempotency key -> interaction id
    likes: set[tuple[str, str]] = field(default_factory=set)
    playlist_adds: Counter[str] = field(default_factory=Counter)
    first_success_after_restart: float | None = None


class Listener:
    def __init__(
        self, http: aiohttp.ClientSession, token: str, user_id: str, playlist: str
    ) -> None:
        self.http, self.token, self.user_id, self.playlist = http, token, user_id, playlist

    async def call(
        self, stats: Stats, name: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            body = await post(self.http, {"query": query, "variables": variables}, self.token)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            stats.errors[f"{name}: {type(error).__name__}"] += 1
            return None
        stats.latencies[name].append(time.perf_counter() - started)
        if body.get("errors"):
            code = body["errors"][0].get("extensions", {}).get("code", "?")
            stats.errors[f"{name}: {code}"] += 1
            stats.outage_codes[code] += 1
            return None
        result: dict[str, Any] = body["data"]
        return result


async def virtual_listener(
    listener: Listener, songs: list[str], stats: Stats, until: float, restarted: dict[str, float]
) -> None:
    rng = random.Random(listener.user_id)
    pending: list[tuple[str, dict[str, Any]]] = []  # writes to retry with their key
    while time.perf_counter() < until:
        if pending and rng.random() < 0.5:
            kind, variables = pending[0]
        else:
            kind, variables = pick_operation(rng, songs, listener)
        query = {
            "songs": SONGS,
            "recommendations": RECS,
            "similarSongs": SIMILAR,
            "recordInteraction": RECORD,
            "like": LIKE,
            "addSongsToPlaylist": ADD,
        }[kind]
        data = await listener.call(stats, kind, query, variables)
        if (
            data is not None
            and "db_back" in restarted
            and stats.first_success_after_restart is None
        ):
            stats.first_success_after_restart = time.perf_counter() - restarted["db_back"]
        if kind in ("recordInteraction", "like", "addSongsToPlaylist"):
            if data is None:
                if (kind, variables) not in pending:
                    pending.append((kind, variables))
                await asyncio.sleep(0.2)
                continue
            if pending and pending[0] == (kind, variables):
                pending.pop(0)
            if kind == "recordInteraction":
                stats.recorded[variables["i"]["idempotencyKey"]] = data["recordInteraction"]["id"]
            elif kind == "like":
                stats.likes.add((listener.user_id, variables["id"]))
            else:
                stats.playlist_adds[listener.playlist] += 1
    # Writes still unacknowledged at the end are not counted: the client never got a yes.


def pick_operation(
    rng: random.Random, songs: list[str], listener: Listener
) -> tuple[str, dict[str, Any]]:
    roll = rng.random()
    song = rng.choice(songs)
    if roll < 0.30:
        return "songs", {"s": rng.choice(SEARCH_TERMS)}
    if roll < 0.55:
        return "recommendations", {}
    if roll < 0.70:
        return "similarSongs", {"id": song}
    if roll < 0.88:
        kind = rng.choice(["PLAY", "PLAY", "PLAY", "SKIP"])
        return "recordInteraction", {
            "i": {"songId": song, "kind": kind, "idempotencyKey": uuid.uuid4().hex}
        }
    if roll < 0.95:
        return "like", {"id": song}
    return "addSongsToPlaylist", {"p": listener.playlist, "s": [song], "k": uuid.uuid4().hex}


async def start_api(uri: str, workers: int, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "MONGODB_URI": uri,
        "MADHUR_PORT": str(port),
        "MADHUR_WORKERS": str(workers),
        "MADHUR_JWT_SECRET": "bench-" + "k" * 40,
        "MADHUR_LOG_LEVEL": "WARNING",
        "MADHUR_BCRYPT_ROUNDS": "10",
        "MADHUR_LOGIN_MAX_FAILURES": "1000",
        # one client address plays every listener: no per-address limits
        "MADHUR_CLIENT_COST_BUDGET": "0",
        "MADHUR_REGISTER_MAX_PER_ADDRESS": "1000000",
    }
    API_LOG.parent.mkdir(parents=True, exist_ok=True)  # bench/results is not in a fresh clone
    log = API_LOG.open("wb")
    process = subprocess.Popen([str(CLI), "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(base_url=url) as http:
        for _ in range(1200):
            try:
                async with http.get("/readyz") as response:
                    if response.status == 200:
                        return process, url
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError(f"API did not become ready; see {API_LOG}")


async def post(
    http: aiohttp.ClientSession, body: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """One GraphQL POST. aiohttp, not httpx: on these two shared cores httpx's client cost
    1.7 ms of CPU a request against aiohttp's 0.2 ms, a quarter of the machine at 300 req/s
    taken from the server being measured (`wrk` is used for the same reason elsewhere)."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with http.post("/graphql", json=body, headers=headers) as response:
        result: dict[str, Any] = await response.json(content_type=None)
        return result


async def setup_listeners(http: aiohttp.ClientSession, count: int) -> list[Listener]:
    async def one(i: int) -> Listener:
        body = await post(
            http,
            {
                "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }",
                "variables": {
                    "i": {
                        "email": f"load{i}-{uuid.uuid4().hex[:6]}@example.com",
                        "password": "orchard-lantern-9731",
                        "displayName": f"L{i}",
                    }
                },
            },
        )
        token, user_id = (
            body["data"]["register"]["accessToken"],
            body["data"]["register"]["user"]["id"],
        )
        created = await post(
            http, {"query": 'mutation { createPlaylist(input: {name: "load"}) { id } }'}, token
        )
        return Listener(http, token, user_id, created["data"]["createPlaylist"]["id"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def verify(uri: str, stats: Stats, listeners: list[Listener]) -> dict[str, Any]:
    from bson import ObjectId

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    db = client[DB_NAME]
    users = [ObjectId(item.user_id) for item in listeners]
    keyed = await db.interactions.count_documents(
        {"user_id": {"$in": users}, "idempotency_key": {"$type": "string"}}
    )
    acked_present = 0
    keys = list(stats.recorded)
    for start in range(0, len(keys), 200):
        acked_present += await db.interactions.count_documents(
            {"idempotency_key": {"$in": keys[start : start + 200]}}
        )
    likes = await db.likes.count_documents({"user_id": {"$in": users}})
    songs_in_playlists = 0
    async for playlist in db.playlists.find({"owner_id": {"$in": users}}, {"song_ids": 1}):
        songs_in_playlists += len(playlist["song_ids"])
    await client.close()
    return {
        "interactions_acknowledged": len(stats.recorded),
        "interactions_acknowledged_and_stored": acked_present,
        "interactions_stored_with_a_key": keyed,
        "likes_acknowledged": len(stats.likes),
        "likes_stored": likes,
        "playlist_adds_acknowledged": sum(stats.playlist_adds.values()),
        "playlist_songs_stored": songs_in_playlists,
    }


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.array(values) * 1000
    return {
        "n": len(values),
        **{f"p{q}": round(float(np.percentile(array, q)), 1) for q in (50, 95, 99)},
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-db-at", type=float, default=None)
    parser.add_argument("--db-down", type=float, default=5)
    parser.add_argument("--catalog", default=str(ROOT / "fixtures" / "spotify_songs.csv.gz"))
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        database = EmbeddedMongo(data_dir / "db")
        database.start()
        subprocess.run(
            [str(CLI), "import-songs", args.catalog],
            env={**os.environ, "MONGODB_URI": database.uri, "MADHUR_DB_NAME": DB_NAME},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        api, url = await start_api(database.uri, args.workers, data_dir)
        stats = Stats()
        restarted: dict[str, float] = {}
        try:
            connector = aiohttp.TCPConnector(limit=args.users)
            timeout = aiohttp.ClientTimeout(total=30)
            async with aiohttp.ClientSession(
                base_url=url, connector=connector, timeout=timeout
            ) as http:
                listeners = await setup_listeners(http, args.users)
                page = await post(
                    http, {"query": "{ songs(first: 100) { edges { node { id } } } }"}
                )
                songs = [edge["node"]["id"] for edge in page["data"]["songs"]["edges"]]
                started, started_cpu = time.perf_counter(), time.process_time()
                until = started + args.seconds
                tasks = [
                    asyncio.create_task(virtual_listener(item, songs, stats, until, restarted))
                    for item in listeners
                ]
                if args.kill_db_at is not None:
                    await asyncio.sleep(args.kill_db_at)
                    database.kill()
                    killed = time.perf_counter()
                    await asyncio.sleep(args.db_down)
                    database.start()
                    restarted["db_back"] = time.perf_counter()
                    restarted["down_seconds"] = restarted["db_back"] - killed
                await asyncio.gather(*tasks)
                elapsed = time.perf_counter() - started
                client_cpu = time.process_time() - started_cpu
            stored = await verify(database.uri, stats, listeners)
        finally:
            api.terminate()
            api.wait(30)
            database.stop()
    requests = sum(len(v) for v in stats.latencies.values()) + sum(stats.errors.values())
    report = {
        "config": {k: v for k, v in vars(args).items() if k != "output"},
        "throughput_rps": round(requests / elapsed, 1),
        "requests": requests,
        # the load generator shares the cores with the server: what it takes of them
        "client_cpu_ms_per_request": round(1000 * client_cpu / max(requests, 1), 3),
        "per_operation_ms": {
            name: percentiles(values) for name, values in sorted(stats.latencies.items())
        },
        "errors": dict(stats.errors),
        "error_codes": dict(stats.outage_codes),
        "recovery_seconds_after_db_restart": None
        if stats.first_success_after_restart is None
        else round(stats.first_success_after_restart, 2),
        "writes": stored,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
