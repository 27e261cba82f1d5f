"""Memory per process at a given catalog size: the API process and the build's child.

For each size, two fresh interpreters (spawned, so one's heap does not inflate the other's):

- build child: a generated catalog (``testsupport.synthetic``) as song documents, turned into
  engine input the way the child does (``catalog_items``), the engine built from it and a
  generated listening log, pickled to a file as the child ships it: build seconds, peak RSS,
  engine size (``engine.stats()['index_bytes']``), pickle size and time;
- API process: the same documents held as the read model (one parsed ``Song`` per song, as
  ``SongStore`` holds them) plus the ``CatalogIndex``, the snapshot dropped; then the shipped
  engine loaded: RSS at each step, and the peak while a second engine is loaded beside the
  first (a swap holds both for a moment).

    .venv/bin/python bench/memory_scale.py --songs 28000 --songs 1000000
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import pickle
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
MIB = 2**20


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def song_documents(n: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """Generated songs shaped like stored ones, and a listening log over them."""
    from bson import ObjectId

    from madhur_gql.recommender.features import FEATURE_NAMES
    from testsupport.synthetic import synthetic_catalog, synthetic_events

    items = synthetic_catalog(
        n, n_artists=max(60, n // 10), n_groups=max(80, n // 500), group_size=40
    )
    events = synthetic_events(items, n_users=max(50, n // 50), per_user=40)
    oids = {song_id: ObjectId() for song_id in items.ids}
    playlists: dict[str, list[str]] = {}
    for g, group in enumerate(items.groups):
        for song_id in group:
            playlists.setdefault(song_id, []).append(f"pl{g:07d}")
    now = datetime.now(UTC)
    docs = []
    for i, song_id in enumerate(items.ids):
        audio = {name: float(v) for name, v in zip(FEATURE_NAMES, items.features[i], strict=True)}
        audio.update(key=i % 12, mode=i % 2)
        docs.append(
            {
                "_id": oids[song_id],
                "track_id": f"t{i:09d}",
                "title": f"Song number {i}",
                "artist": items.artists[i],
                "title_lc": f"song number {i}",
                "artist_lc": items.artists[i],
                "album": f"Album {i // 12}",
                "release_date": f"{1960 + i % 60}-0{1 + i % 9}-1{i % 10}",
                "genres": list(items.genres[i]),
                "subgenres": [],
                "playlist_ids": playlists.get(song_id, []),
                "popularity": int(items.popularity[i]),
                "duration_ms": 200_000 + i % 100_000,
                "audio": audio,
                "like_count": 0,
                "play_count": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    from madhur_gql.recommender.values import Event

    log = [Event(str(e.user_id), str(oids[e.item_id]), e.kind, e.at, e.value) for e in events]
    return docs, log


def build_child(n: int, out: str) -> dict[str, Any]:
    from madhur_gql.recommender.engine import RecommenderEngine
    from madhur_gql.services.recommendations.snapshot import catalog_items

    base = rss_mib()
    docs, events = song_documents(n)
    started = time.perf_counter()
    items = catalog_items(docs)
    del docs
    engine = RecommenderEngine.build(items, events)
    built = time.perf_counter() - started
    stats = engine.stats()
    started = time.perf_counter()
    with open(out, "wb") as f:
        pickle.dump(engine, f, protocol=pickle.HIGHEST_PROTOCOL)
    return {
        "songs": n,
        "events": len(events),
        "build_seconds": round(built, 1),
        "engine_mib": round(stats["index_bytes"] / MIB, 1),
        "cf_mib": round(stats["cf_bytes"] / MIB, 1),
        "pickle_mib": round(Path(out).stat().st_size / MIB, 1),
        "pickle_seconds": round(time.perf_counter() - started, 2),
        "rss_after_imports_mib": base,
        "peak_rss_mib": peak_mib(),
    }


def api_process(n: int, engine_file: str) -> dict[str, Any]:
    import asyncio

    from madhur_gql.db.connection import init_database
    from madhur_gql.db.embedded import EmbeddedMongo
    from madhur_gql.documents import Song
    from madhur_gql.services.catalog.index import CatalogIndex

    with tempfile.TemporaryDirectory() as tmp, EmbeddedMongo(Path(tmp)) as db:
        # Beanie wants a database before it parses a document; nothing is stored in it.
        asyncio.run(init_database(db.uri, "memory_bench"))
        return _api_figures(n, engine_file, Song, CatalogIndex)


def _api_figures(n: int, engine_file: str, Song: Any, CatalogIndex: Any) -> dict[str, Any]:
    figures: dict[str, Any] = {"rss_after_imports_mib": rss_mib()}
    docs, _ = song_documents(n)
    figures["rss_with_snapshot_mib"] = rss_mib()
    index = CatalogIndex.from_documents(docs)
    figures["rss_plus_catalog_index_mib"] = rss_mib()
    store = {doc["_id"]: Song.model_validate(doc) for doc in docs}
    figures["rss_plus_read_model_mib"] = rss_mib()
    del docs
    gc.collect()
    figures["rss_read_model_and_index_mib"] = rss_mib()
    if not engine_file:  # --api-only: the read model and the index alone
        figures["peak_rss_mib"] = peak_mib()
        assert len(store) == n and len(index) == n
        return figures
    started = time.perf_counter()
    with open(engine_file, "rb") as f:
        engine = pickle.load(f)  # noqa: S301 - our own file
    figures["engine_load_seconds"] = round(time.perf_counter() - started, 2)
    figures["rss_steady_mib"] = rss_mib()
    with open(engine_file, "rb") as f:
        incoming = pickle.load(f)  # noqa: S301 - a swap: the next engine beside the current
    figures["rss_during_swap_mib"] = rss_mib()
    engine = incoming
    gc.collect()
    figures["rss_after_swap_mib"] = rss_mib()
    figures["peak_rss_mib"] = peak_mib()
    assert len(store) == n and len(index) == n and engine is incoming
    return figures


def in_fresh_process(target: Any, *args: Any) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, Any] = pool.apply(target, args)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--songs", type=int, action="append", default=None)
    parser.add_argument("--output", type=Path, default=RESULTS / "memory_scale.json")
    parser.add_argument("--api-only", action="store_true", help="no engine: read model, index")
    args = parser.parse_args()
    report: dict[str, Any] = {"command": " ".join(sys.argv), "runs": []}
    for n in args.songs or [28_000]:
        with tempfile.TemporaryDirectory() as tmp:
            engine_file = str(Path(tmp) / "engine.pickle")
            child = {} if args.api_only else in_fresh_process(build_child, n, engine_file)
            print("build child", json.dumps(child), flush=True)
            api = in_fresh_process(api_process, n, "" if args.api_only else engine_file)
            print("api process", json.dumps(api), flush=True)
        report["runs"].append({"songs": n, "build_child": child, "api_process": api})
    RESULTS.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
