"""Engine speed and memory: fixture scale (real catalog, synthetic users) and a large scale.

Usage:
    .venv/bin/python -m bench.recommender_speed --scale fixture
    .venv/bin/python -m bench.recommender_speed --scale large --items 1000000 \\
        --interactions 10000000 --users 100000

For each scale: index build time, index bytes (engine.stats) and process peak RSS, latency of
recommend() (personalised, cold, mood, seeds) and similar(), record() cost, and the scoring step
(``engine.score_candidates`` + argpartition) against the bare floor (one sparse vector x item-graph
product + argpartition on the same arrays), as a ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from madhur_gql.recommender.blas import single_threaded_blas
from madhur_gql.recommender.engine import (
    FEATURE_NAMES,
    CatalogItems,
    Event,
    Mood,
    RecommendationRequest,
    RecommenderEngine,
)
from testsupport.synthetic import large_interactions

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "spotify_songs.csv.gz"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
TOP20 = RecommendationRequest(first=20)
CALM20 = RecommendationRequest(first=20, mood=Mood.CALM)
PARTY20 = RecommendationRequest(first=20, mood=Mood.PARTY)


def fixture_catalog() -> CatalogItems:
    """The shipped song fixture as a catalog; its playlists are the co-occurrence groups."""
    df = pd.read_csv(FIXTURE)
    songs = df.drop_duplicates("track_id")
    genres: dict[str, tuple[str, ...]] = {}
    for track, genre in zip(df["track_id"], df["playlist_genre"].astype(str), strict=True):
        genres[track] = tuple(sorted({*genres.get(track, ()), genre}))
    return CatalogItems(
        ids=songs["track_id"].tolist(),
        features=songs[list(FEATURE_NAMES)].to_numpy(np.float32),
        artists=songs["track_artist"].fillna("").astype(str).tolist(),
        genres=[genres[t] for t in songs["track_id"]],
        popularity=songs["track_popularity"].to_numpy(np.float32),
        groups=df.groupby("playlist_id")["track_id"].agg(list).tolist(),
    )


def fixture_events(items: CatalogItems, n_users: int, per_user: int, seed: int) -> list[Event]:
    """Users who listen inside 2-3 random playlists (plays, some likes and skips)."""
    rng = np.random.default_rng(seed)
    events: list[Event] = []
    kinds = np.array(["play", "like", "skip"])
    for u in range(n_users):
        chosen = rng.choice(len(items.groups), size=3, replace=False)
        pool = list({i for g in chosen for i in items.groups[g]})
        picks = rng.choice(len(pool), size=min(per_user, len(pool)), replace=False)
        for step, p in enumerate(picks):
            kind = str(kinds[rng.choice(3, p=[0.7, 0.2, 0.1])])
            at = NOW - timedelta(days=60) + timedelta(minutes=step)
            events.append(Event(f"u{u}", pool[p], kind, at))
    return events


def large_catalog(n_items: int, seed: int) -> CatalogItems:
    """Random-feature catalog of n_items songs (ids, artists and genres as compact strings)."""
    rng = np.random.default_rng(seed)
    feats = rng.random((n_items, len(FEATURE_NAMES)), dtype=np.float32)
    feats[:, FEATURE_NAMES.index("tempo")] = 60 + 120 * feats[:, FEATURE_NAMES.index("tempo")]
    feats[:, FEATURE_NAMES.index("loudness")] = -30 * feats[:, FEATURE_NAMES.index("loudness")]
    genre_names = ("pop", "rock", "rap", "edm", "latin", "r&b")
    return CatalogItems(
        ids=[f"s{i}" for i in range(n_items)],
        features=feats,
        artists=[f"a{i // 8}" for i in range(n_items)],
        genres=[(genre_names[i % 6],) for i in range(n_items)],
        popularity=(rng.random(n_items, dtype=np.float32) * 100).astype(np.float32),
        groups=[],
    )


def timed(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    """p50 / p95 / mean milliseconds over ``repeat`` calls (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p95_ms": samples[int(0.95 * (len(samples) - 1))],
        "mean_ms": statistics.fmean(samples),
    }


def floor_vs_scoring(engine: RecommenderEngine, users: list[str], k: int = 20) -> dict[str, float]:
    """Engine scoring step vs one sparse profile x graph product + argpartition, per user.

    The scoring step is ``engine.score_candidates`` (profile, both CF graphs, content, blend)
    plus the same argpartition; above ``dense_limit`` items it scores a candidate set only.
    """
    graph: sp.csr_matrix = engine.graphs.matrices[0]  # the RP3beta item graph the engine serves
    n = graph.shape[0]
    t_now = NOW.timestamp()
    vectors = []
    for u in users:
        taste = engine.profiles.profile(u, t_now)
        idx, w = taste.items, taste.weights
        pos = w > 0
        vectors.append(sp.csr_matrix((w[pos], (np.zeros(pos.sum(), int), idx[pos])), shape=(1, n)))

    def floor() -> None:
        for v in vectors:
            s = (v @ graph).toarray().ravel()
            np.argpartition(-s, k)[:k]

    def scoring() -> None:
        for u in users:
            cand, s = engine.score_candidates(u, now=NOW)
            cand[np.argpartition(-s, k)[:k]]

    # Interleaved rounds, so a noisy neighbour on the shared box hits both sides alike.
    floor()
    scoring()
    f_times, e_times = [], []
    for _ in range(15):
        t0 = time.perf_counter()
        floor()
        t1 = time.perf_counter()
        scoring()
        t2 = time.perf_counter()
        f_times.append((t1 - t0) * 1000 / len(users))
        e_times.append((t2 - t1) * 1000 / len(users))
    ratios = sorted(e / f for e, f in zip(e_times, f_times, strict=True))
    return {
        "floor_ms_per_user": min(f_times),
        "scoring_ms_per_user": min(e_times),
        "ratio": statistics.median(ratios),
        "ratio_of_minimums": min(e_times) / min(f_times),
    }


def measure(engine: RecommenderEngine, users: list[str], seeds: list[str]) -> dict[str, Any]:
    """Latencies of the public calls on a built engine."""
    rng = np.random.default_rng(0)
    it = iter(rng.permutation(len(users)).tolist() * 1000)

    def personal() -> None:
        engine.recommend(users[next(it)], TOP20, now=NOW)

    seeded = RecommendationRequest(first=20, seeds=tuple(seeds[:3]))
    record_events = [
        Event(users[i % len(users)], seeds[i % len(seeds)], "like", NOW) for i in range(2000)
    ]
    t0 = time.perf_counter()
    for e in record_events:
        engine.record(e)
    record_us = (time.perf_counter() - t0) / len(record_events) * 1e6
    return {
        "recommend_personal": timed(personal, 200),
        "recommend_personal_mood": timed(
            lambda: engine.recommend(users[next(it)], CALM20, now=NOW), 100
        ),
        "recommend_cold_user": timed(lambda: engine.recommend(None, TOP20, now=NOW), 100),
        "recommend_mood_only": timed(lambda: engine.recommend(None, PARTY20), 100),
        "recommend_seeds": timed(lambda: engine.recommend(None, seeded), 100),
        "similar": timed(lambda: engine.similar(seeds[next(it) % len(seeds)], 20), 200),
        "record_us_per_event": record_us,
        "scoring_vs_floor": floor_vs_scoring(engine, users[:200]),
    }


def peak_rss_mb() -> float:
    """Process peak resident memory (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_fixture(n_users: int) -> dict[str, Any]:
    items = fixture_catalog()
    events = fixture_events(items, n_users, 40, seed=1)
    t0 = time.perf_counter()
    engine = RecommenderEngine.build(items, events)
    build = time.perf_counter() - t0
    users = [f"u{u}" for u in range(n_users)]
    result = {
        "scale": f"fixture: {len(items.ids)} songs, {len(items.groups)} playlists, "
        f"{n_users} synthetic users, {len(events)} events",
        "build_seconds": build,
        "stats": engine.stats(),
        **measure(engine, users, items.ids[:5000]),
    }
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def run_large(n_items: int, n_interactions: int, n_users: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    items = large_catalog(n_items, seed=2)
    bulk = large_interactions(n_users, n_items, n_interactions, seed=3)
    gen = time.perf_counter() - t0
    rng = np.random.default_rng(4)
    profiled = rng.choice(n_users, size=1000, replace=False)
    events = []
    for u in profiled:  # the 1,000 benchmark users also get per-event profiles
        row = bulk.indices[bulk.indptr[u] : bulk.indptr[u + 1]]
        events += [Event(f"u{u}", items.ids[i], "play", NOW - timedelta(days=40)) for i in row]
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    engine = RecommenderEngine.build(items, events, bulk_interactions=bulk)
    build = time.perf_counter() - t0
    users = [f"u{u}" for u in profiled]
    result = {
        "scale": f"large: {n_items} songs, {bulk.nnz} interactions ({n_users} users)",
        "generate_seconds": gen,
        "build_seconds": build,
        "stats": engine.stats(),
        "peak_rss_mb_before_build": rss_before,
        **measure(engine, users, [items.ids[i] for i in bulk.indices[:5000]]),
    }
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["fixture", "large"], default="fixture")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    single_threaded_blas()  # as the API's serving processes do
    if args.scale == "fixture":
        result = run_fixture(args.users or 5000)
    else:
        result = run_large(args.items, args.interactions, args.users or 100_000)
    text = json.dumps(result, indent=2, default=float)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text)


if __name__ == "__main__":
    main()
