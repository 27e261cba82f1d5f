"""Memory per API process: the read model (song store + catalog index) and the recommender.

Builds, in this process, what `madhur-gql serve` holds for N generated songs in the stored
shape (title, artist, album, genres, audio features, counters, ...) and a generated
interaction matrix, and reads the resident set size after each part (gc'd, from
/proc/self/statm). An embedded server is started only so that Beanie is initialised (the
song store parses documents as the app does); nothing is written to it.

    .venv/bin/python bench/memory.py --songs 28351 1000000 --plays 10000000
    .venv/bin/python bench/memory.py --songs 1000000 --no-engine   # the read model alone

The read model's figures are printed as soon as they are measured, before the engine build
(the long part at 1M songs and 10M plays).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bson import ObjectId

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from madhur_gql.db.connection import init_database  # noqa: E402
from madhur_gql.db.embedded import EmbeddedMongo  # noqa: E402
from madhur_gql.recommender.engine import RecommenderEngine  # noqa: E402
from madhur_gql.services.catalog.index import CatalogIndex  # noqa: E402
from madhur_gql.services.catalog.store import SongStore  # noqa: E402
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
        "_id": ObjectId(),
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


def measure(n_songs: int, n_plays: int, with_engine: bool = True) -> dict[str, Any]:
    rng = random.Random(n_songs)
    artists = [(f"Artist {a}", ObjectId()) for a in range(max(1, n_songs // 8))]
    base = rss_mib()
    t0 = time.perf_counter()
    docs = [song_doc(i, rng, artists) for i in range(n_songs)]
    generated = rss_mib()
    t1 = time.perf_counter()
    songs = SongStore()
    songs.load(docs)
    stored = rss_mib()
    index = CatalogIndex.from_documents(docs)
    indexed = rss_mib()
    index.query(search="night", limit=20)  # materialise the columns, as the first request does
    columns = rss_mib()
    t2 = time.perf_counter()
    items = catalog_items(docs) if with_engine else None
    del docs
    read_model = rss_mib()
    figures: dict[str, Any] = {
        "songs": n_songs,
        "read_model_mib": round(read_model - generated, 1),
        "read_model_bytes_per_song": round((read_model - generated) * 2**20 / n_songs),
        "bytes_per_song": {  # the parts, while the generated documents are still alive
            "song_store": round((stored - generated) * 2**20 / n_songs),
            "index_songs": round((indexed - stored) * 2**20 / n_songs),
            "index_columns": round((columns - indexed) * 2**20 / n_songs),
        },
        "generate_seconds": round(t1 - t0, 1),
        "read_model_seconds": round(t2 - t1, 1),
    }
    print(json.dumps(figures), flush=True)  # the read model's figures, before the long build
    if items is None:
        return {**figures, "process_rss_mib": round(read_model, 1)}
    n_users = max(100, n_plays // 50)
    bulk = large_interactions(n_users, n_songs, n_plays, seed=3) if n_plays else None
    before_engine = rss_mib()
    t3 = time.perf_counter()
    engine = RecommenderEngine.build(items, [], bulk_interactions=bulk)
    t4 = time.perf_counter()
    del bulk, items
    after_engine = rss_mib()
    return {
        **figures,
        "interactions": n_plays,
        "engine_mib": round(after_engine - before_engine, 1),
        "engine_index_bytes_mib": round(engine.stats()["index_bytes"] / 2**20, 1),
        "process_rss_mib": round(after_engine, 1),
        "process_rss_above_start_mib": round(after_engine - base, 1),
        "engine_build_seconds": round(t4 - t3, 1),
    }


async def run(sizes: list[int], plays: int, with_engine: bool) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedMongo(Path(tmp)) as server:
        client, _ = await init_database(server.uri, "memory_bench")
        try:
            return [
                measure(n, plays if n > 100_000 else min(plays, n * 10), with_engine) for n in sizes
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
            results += asyncio.run(run([n], args.plays, not args.no_engine))
    text = json.dumps(results, indent=2)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
