"""Memory per API process: the read model (song store + catalog index) and the recommender.

Builds, in this process, what `madhur-gql serve` holds for N generated songs in the stored
shape (title, artist, album, genres, audio features, counters, ...) and a generated
interaction matrix, and reads the resident set size after each part (gc'd, from
/proc/self/statm). An embedded server is started only so that Beanie is initialised (the
song store parses documents as the app does); nothing is written to it.

    .venv/bin/python bench/memory.py --songs 28351 1000000 --plays 10000000
    .venv/bin/python bench/memory.py --songs 1000000 --no-engine   # the read model alone
    .venv/bin/python bench/memory.py --songs 1000000 --engine-only # the engine alone

The read model's figures are printed as soon as they are measured, before the engine build
(the long part at 1M songs and 10M plays).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import multiprocessing
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from bson import ObjectId

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sizes import breakdown, deep_bytes, smaps_rollup  # noqa: E402
from madhur_gql.db.connection import init_database  # noqa: E402
from madhur_gql.db.embedded import EmbeddedMongo  # noqa: E402
from madhur_gql.recommender.served import build_served  # noqa: E402
from madhur_gql.recommender.values import Event  # noqa: E402
from madhur_gql.services.catalog.index import CatalogIndex  # noqa: E402
from madhur_gql.services.catalog.store import SongStore  # noqa: E402
from madhur_gql.services.recommendations.builder import Built  # noqa: E402
from madhur_gql.services.recommendations.snapshot import catalog_items  # noqa: E402
from testsupport.synthetic import large_interactions  # noqa: E402

RESULTS = ROOT / "bench" / "results"
GENRES = ["pop", "rock", "rap", "edm", "latin", "r&b", "dance pop", "indie"]
WORDS = [
    "love",
    "night",
    "heart",
    "fire",
    "dream",
    "rain",
    "summer",
    "city",
    "blue",
    "gold",
    "wild",
    "light",
    "road",
]


def rss_mib() -> float:
    gc.collect()
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def song_doc(i: int, rng: random.Random, artists: list[tuple[str, ObjectId]]) -> dict[str, Any]:
    title = " ".join(rng.choices(WORDS, k=rng.randint(1, 4))) + f" {i}"
    artist, artist_id = artists[i % len(artists)]
    return {
        "_id": ObjectId(rng.randbytes(12)),
        "track_id": f"{i:022d}",
        "title": title.title(),
        "artist": artist,
        "artist_id": artist_id,
        "album": f"Album {i // 12}",
        "album_id": f"{i // 12:022d}",
        "release_date": f"{1960 + i % 64}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "genres": rng.sample(GENRES, k=rng.randint(1, 2)),
        "subgenres": [],
        "playlist_ids": [f"p{i // 40}"],
        "popularity": rng.randint(0, 100),
        "duration_ms": rng.randint(90_000, 400_000),
        "audio": {
            "danceability": rng.random(),
            "energy": rng.random(),
            "valence": rng.random(),
            "tempo": 60 + 120 * rng.random(),
            "acousticness": rng.random(),
            "instrumentalness": rng.random(),
            "speechiness": rng.random(),
            "liveness": rng.random(),
            "loudness": -30 * rng.random(),
            "key": rng.randint(-1, 11),
            "mode": rng.randint(0, 1),
        },
        "title_lc": title.lower(),
        "artist_lc": artist.lower(),
        "like_count": 0,
        "play_count": 0,
    }


def song_docs(n_songs: int) -> Iterator[dict[str, Any]]:
    """The same generated songs on every call (ids included)."""
    rng = random.Random(n_songs)
    artists = [(f"Artist {a}", ObjectId(rng.randbytes(12))) for a in range(max(1, n_songs // 8))]
    for i in range(n_songs):
        yield song_doc(i, rng, artists)


def measure(
    n_songs: int, n_plays: int, with_engine: bool = True, with_read_model: bool = True
) -> dict[str, Any]:
    base = rss_mib()
    t1 = time.perf_counter()
    held = n_songs if with_read_model else 1  # --engine-only: a one-song read model
    songs = SongStore()
    songs.load(song_docs(held))  # streamed, as the start-up reads the songs' cursor
    stored = rss_mib()
    index = CatalogIndex.from_documents(song_docs(held))
    indexed = rss_mib()
    index.query(search="night", limit=20)  # materialise the columns, as the first request does
    read_model = rss_mib()
    t2 = time.perf_counter()
    figures: dict[str, Any] = {
        "songs": n_songs,
        "read_model_mib": round(read_model - base, 1),
        "read_model_bytes_per_song": round((read_model - base) * 2**20 / n_songs),
        "bytes_per_song": {
            "song_store": round((stored - base) * 2**20 / n_songs),
            "index_songs": round((indexed - stored) * 2**20 / n_songs),
            "index_columns": round((read_model - indexed) * 2**20 / n_songs),
        },
        "read_model_parts_mib": {  # what the objects hold (a shared string counts once)
            "song_store": mib(deep_bytes(songs)[0]),
            "catalog_index": mib(deep_bytes(index)[0]),
            **{f"catalog_index.{k}": mib(v) for k, v in breakdown(index).items() if v >= 2**20},
        },
        "read_model_seconds": round(t2 - t1, 1),
    }
    print(json.dumps(figures), flush=True)  # the read model's figures, before the long build
    if not with_engine:
        return {**figures, "process_rss_mib": round(read_model, 1)}
    with tempfile.TemporaryDirectory() as tmp:
        shipped = Path(tmp) / "engine.pickle"
        t3 = time.perf_counter()
        child = in_fresh_process(build_child, n_songs, n_plays, str(shipped))
        t4 = time.perf_counter()
        print(json.dumps({"build_child": child}), flush=True)
        before_engine = rss_mib()
        with shipped.open("rb") as f:
            built = pickle.load(f)  # noqa: S301 - our own child's file, as the builder ships it
        engine = built.engine
        del built  # the service keeps the engine, not the snapshot's interaction ids
        after_engine = rss_mib()
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # how much of it is free heap not handed back
        trimmed = rss_mib()
        parts = {k: mib(v) for k, v in breakdown(engine, depth=1).items() if v >= 2**16}
        rollup = {k: mib(v) for k, v in smaps_rollup().items() if k in ROLLUP}
    return {
        **figures,
        "interactions": n_plays,
        "build_child": child,
        "engine_build_seconds": round(t4 - t3, 1),
        "engine_mib": round(after_engine - before_engine, 1),
        "engine_stats_index_bytes_mib": mib(int(engine.stats()["index_bytes"])),
        "engine_parts_mib": dict(sorted(parts.items(), key=lambda kv: -kv[1])),
        "process_rss_mib": round(after_engine, 1),
        "engine_mib_after_malloc_trim": round(trimmed - before_engine, 1),
        "process_rss_above_start_mib": round(after_engine - base, 1),
        "smaps_rollup_mib": rollup,
    }


ROLLUP = ("Rss", "Pss", "Shared_Clean", "Private_Clean", "Private_Dirty")


def mib(n: int) -> float:
    return round(n / 2**20, 1)


def build_child(n_songs: int, n_plays: int, out: str) -> dict[str, Any]:
    """In a fresh process, as the API's builder does: the catalog's engine input
    (``catalog_items`` of the stored documents), every listener's plays as events, the
    served build (``build_served``: ALS at the large settings above ``dense_limit`` songs),
    pickled to a file as the builder ships it."""
    items = catalog_items(list(song_docs(n_songs)))
    started = time.perf_counter()
    events = listener_events(items.ids, n_plays)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    engine = build_served(items, events)
    built = time.perf_counter() - started
    with open(out, "wb") as f:
        pickle.dump(
            Built(engine, np.zeros(0, dtype="S12"), len(items.ids), built, 0),
            f,
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    stats = engine.stats()
    return {
        "events": len(events),
        "users": stats["users"],
        "factors": engine.factors.factors if engine.factors else 0,
        "cf_edges": stats["cf_edges"],
        "events_seconds": round(generated, 1),
        "build_seconds": round(built, 1),
        "shipped_mib": mib(Path(out).stat().st_size),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def listener_events(ids: list[str], n_plays: int) -> list[Event]:
    """The large synthetic log (``large_interactions``: Zipf popularity, taste regions), one
    play event per (listener, song) with its count, over the last 60 days; 100 songs a
    listener, as at 10M plays and 100k listeners."""
    n_users = max(100, n_plays // 100)
    m = large_interactions(n_users, len(ids), n_plays, seed=3)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    instants = [start + timedelta(hours=h) for h in range(60 * 24)]
    events: list[Event] = []
    for u in range(n_users):
        user = f"u{u:07d}"
        lo, hi = m.indptr[u], m.indptr[u + 1]
        for i, count in zip(m.indices[lo:hi].tolist(), m.data[lo:hi].tolist(), strict=True):
            at = instants[(u * 31 + i) % len(instants)]
            events.append(Event(user, ids[i], "play", at, count if count > 1 else None))
    return events


def in_fresh_process(target: Any, *args: Any) -> dict[str, Any]:
    """Spawned, so the build's heap does not inflate the measured process."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, Any] = pool.apply(target, args)
    return result


async def run(
    sizes: list[int], plays: int, with_engine: bool, with_read_model: bool = True
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedMongo(Path(tmp)) as server:
        client, _ = await init_database(server.uri, "memory_bench")
        try:
            return [
                measure(
                    n, plays if n > 100_000 else min(plays, n * 10), with_engine, with_read_model
                )
                for n in sizes
            ]
        finally:
            await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--songs", type=int, nargs="+", default=[28_351, 1_000_000])
    parser.add_argument("--plays", type=int, default=10_000_000, help="interactions at 1M")
    parser.add_argument("--output", type=Path, default=RESULTS / "memory.json")
    parser.add_argument(
        "--no-engine", action="store_true", help="the read model only (minutes at 1M songs)"
    )
    parser.add_argument(
        "--engine-only", action="store_true", help="the engine alone (one song's read model)"
    )
    args = parser.parse_args()
    results = []
    for n in args.songs:  # one size per process: the RSS of one does not hide in the other's
        if len(args.songs) > 1:
            out = args.output.with_suffix(f".{n}.json")
            command = [sys.executable, __file__, "--songs", str(n), "--plays", str(args.plays)]
            command += ["--no-engine"] if args.no_engine else []
            subprocess.run([*command, "--output", str(out)], check=True)
            results += json.loads(out.read_text())
        else:
            results += asyncio.run(run([n], args.plays, not args.no_engine, not args.engine_only))
    text = json.dumps(results, indent=2)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
