"""Recommendation quality on the Last.fm dev split (PROTOCOL.md), all models in one run.

Usage:
    .venv/bin/python bench/recommender_quality.py \\
        --interactions /work/shared/data/lastfm_dev_user_artists.tsv \\
        --item-features /work/shared/data/lastfm_artist_audio_features.csv [--no-implicit]

Prints a markdown table (and JSON with --json) with popularity, implicit's Cosine/BM25 item-kNN
and ALS (if ``implicit`` is installed: ``pip install -e .[bench]``), Madhur's collaborative
models, the served engine end to end, and a cold-start figure for items hidden from train.
Data stays outside the repo; nothing here writes into it except bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from madhur_gql.recommender.baselines import PopularityModel
from madhur_gql.recommender.collaborative import default_factories
from madhur_gql.recommender.content import ContentIndex
from madhur_gql.recommender.engine import (
    FEATURE_NAMES,
    CatalogItems,
    EngineConfig,
    Event,
    RecommendationRequest,
    RecommenderEngine,
)
from madhur_gql.recommender.evaluation import (
    EvalData,
    ItemFeatures,
    Model,
    align_features,
    evaluate_model,
    format_table,
    index_split,
    load_interactions,
    split_protocol,
)

UNDIVERSIFIED_TOP10 = RecommendationRequest(first=10, diversity=0.0, max_per_artist=0)
DEFAULT_INTERACTIONS = "/work/shared/data/lastfm_dev_user_artists.tsv"
DEFAULT_FEATURES = "/work/shared/data/lastfm_artist_audio_features.csv"


class ImplicitItemKNN:
    """implicit's CosineRecommender / BM25Recommender fitted on log1p(weight)."""

    def __init__(self, kind: str, k: int = 100) -> None:
        self.kind, self.k = kind, k
        self.name = f"implicit_{kind}_K{k}"
        self.similarity: sp.csr_matrix | None = None

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

        x = interactions.astype(np.float32)
        x.data = np.log1p(x.data)
        model = CosineRecommender(K=self.k) if self.kind == "cosine" else BM25Recommender(K=self.k)
        model.fit(x.tocsr(), show_progress=False)
        self.similarity = model.similarity.tocsr()

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        assert self.similarity is not None
        u = user_rows.astype(np.float32)
        u.data = np.log1p(u.data)
        return np.asarray((u @ self.similarity).toarray())


class ImplicitALS:
    """implicit ALS, 64 factors, 15 iterations, on bm25-weighted log1p(weight)."""

    name = "implicit_als_64f_15it_bm25"

    def __init__(self) -> None:
        self.user_factors = np.zeros((0, 0), dtype=np.float32)
        self.item_factors = np.zeros((0, 0), dtype=np.float32)

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        from implicit.als import AlternatingLeastSquares
        from implicit.nearest_neighbours import bm25_weight
        from threadpoolctl import threadpool_limits

        x = interactions.astype(np.float32)
        x.data = np.log1p(x.data)
        weighted = bm25_weight(x, K1=100, B=0.8).tocsr().astype(np.float32)
        model = AlternatingLeastSquares(factors=64, iterations=15, random_state=42)
        with threadpool_limits(1, "blas"):
            model.fit(weighted, show_progress=False)
        self.user_factors = np.asarray(model.user_factors)
        self.item_factors = np.asarray(model.item_factors)

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        raise NotImplementedError("ALS scores need user indices: use score_users")

    def score_users(self, user_idx: np.ndarray, user_rows: sp.csr_matrix) -> np.ndarray:
        return np.asarray(self.user_factors[user_idx] @ self.item_factors.T)


def _engine_features(features: ItemFeatures | None, n_items: int) -> np.ndarray:
    """Catalog-aligned features in FEATURE_NAMES order (NaN where an artist has none)."""
    out = np.full((n_items, len(FEATURE_NAMES)), np.nan, dtype=np.float32)
    if features is None:
        return out
    col = {name: j for j, name in enumerate(features.names)}
    for i, name in enumerate(FEATURE_NAMES):
        if name in col:
            out[:, i] = features.values[:, col[name]]
    out[~features.present] = np.nan
    return out


class EngineModel:
    """The served RecommenderEngine end to end: build from events, rank with recommend()."""

    name = "madhur_engine (hybrid, served)"

    def __init__(self, config: EngineConfig | None = None, name: str | None = None) -> None:
        self.config = config
        if name:
            self.name = name
        self.engine: RecommenderEngine | None = None
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.build_seconds = 0.0

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        n_items = interactions.shape[1]
        items = CatalogItems(
            ids=[str(i) for i in range(n_items)],
            features=_engine_features(features, n_items),
            artists=[str(i) for i in range(n_items)],
            genres=[() for _ in range(n_items)],
            popularity=np.zeros(n_items, dtype=np.float32),
            groups=[],
        )
        coo = interactions.tocoo()
        events = [
            Event(str(u), str(i), "play", self.now, float(w))
            for u, i, w in zip(coo.row, coo.col, coo.data, strict=True)
        ]
        t0 = time.perf_counter()
        self.engine = RecommenderEngine.build(items, events, config=self.config)
        self.build_seconds = time.perf_counter() - t0

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        raise NotImplementedError("the engine ranks by user id: use score_users")

    def score_users(self, user_idx: np.ndarray, user_rows: sp.csr_matrix) -> np.ndarray:
        assert self.engine is not None
        out = np.zeros(user_rows.shape, dtype=np.float32)
        for row, u in enumerate(user_idx):
            picks = self.engine.recommend(str(u), UNDIVERSIFIED_TOP10, now=self.now)
            for rank, pick in enumerate(picks):
                out[row, int(pick.item_id)] = 100.0 - rank
        return out


def cold_start(data: EvalData, features: ItemFeatures, share: float = 0.1) -> dict[str, Any]:
    """Hide a share of featured test items from train entirely; rank them by content only.

    Every test user with a hidden item in its test set ranks the whole hidden set with the
    cosine between each hidden item and the mean of its train items' audio vectors (log1p
    weights). Reported against random ranking of the same set (mean of 200 shuffles).
    """
    rng = np.random.default_rng(7)
    in_test = np.diff(data.test.tocsc().indptr) > 0
    pool = np.flatnonzero(features.present & in_test)
    hidden = np.sort(rng.choice(pool, size=max(1, int(share * pool.size)), replace=False))
    train = data.train.tolil(copy=True)
    train[:, hidden] = 0
    train = sp.csr_matrix(train)
    train.eliminate_zeros()
    raw = np.where(features.present[:, None], features.values, np.nan)
    index = ContentIndex.build(raw)
    hidden_vecs = index.vectors[hidden]
    test_csc = data.test[:, hidden].tocsr()
    k = 10
    disc = 1.0 / np.log2(np.arange(k) + 2.0)
    stats = {"content": [0.0, 0.0, 0.0], "random": [0.0, 0.0, 0.0]}
    users = 0
    for u in range(data.train.shape[0]):
        rel = test_csc.indices[test_csc.indptr[u] : test_csc.indptr[u + 1]]
        items = train.indices[train.indptr[u] : train.indptr[u + 1]]
        w = np.log1p(train.data[train.indptr[u] : train.indptr[u + 1]])
        has = index.present[items]
        if rel.size == 0 or not has.any():
            continue
        users += 1
        scores = hidden_vecs @ index.profile(items[has], w[has])
        is_rel = np.zeros(hidden.size, dtype=bool)
        is_rel[rel] = True
        for name, order in (
            ("content", np.argsort(-scores, kind="stable")),
            *(("random", rng.permutation(hidden.size)) for _ in range(200)),
        ):
            top = is_rel[order[:k]]
            ideal = disc[: min(k, rel.size)].sum()
            ranks = np.empty(hidden.size)
            ranks[order] = np.arange(hidden.size)
            n_pos, n_neg = rel.size, hidden.size - rel.size
            auc = 1.0 - (ranks[is_rel].sum() - n_pos * (n_pos - 1) / 2) / max(n_pos * n_neg, 1)
            weight = 1.0 if name == "content" else 1.0 / 200
            stats[name][0] += weight * top.sum() / min(k, rel.size)
            stats[name][1] += weight * float(top @ disc[: top.size]) / ideal
            stats[name][2] += weight * auc
    return {
        "hidden_items": int(hidden.size),
        "users": users,
        **{
            name: {
                "recall@10": vals[0] / max(users, 1),
                "ndcg@10": vals[1] / max(users, 1),
                "auc": vals[2] / max(users, 1),
            }
            for name, vals in stats.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", default=DEFAULT_INTERACTIONS)
    parser.add_argument("--item-features", default=DEFAULT_FEATURES)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--no-implicit", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()

    df = load_interactions(args.interactions)
    train, test = split_protocol(df)
    data = index_split(train, test)
    features = align_features(args.item_features, data.item_ids) if args.item_features else None

    models: list[Model] = [PopularityModel()]
    if not args.no_implicit:
        try:
            import implicit  # noqa: F401

            models += [ImplicitItemKNN("cosine"), ImplicitItemKNN("bm25"), ImplicitALS()]
        except ImportError:
            print("implicit not installed: compare with the PROTOCOL.md reference figures")
    models += [factory() for factory in default_factories().values()]
    models.append(EngineModel())

    report: dict[str, Any] = {
        "k": args.k,
        "n_users": int(data.train.shape[0]),
        "n_items": int(data.train.shape[1]),
        "models": {},
    }
    for model in models:
        report["models"][model.name] = evaluate_model(model, data, k=args.k, features=features)
        m = report["models"][model.name]
        print(
            f"{model.name:40s} ndcg@{args.k}={m[f'ndcg@{args.k}']:.4f} "
            f"coverage@{args.k}={m[f'coverage@{args.k}']:.3f} fit={m['fit_seconds']:.1f}s "
            f"score={m['score_seconds']:.1f}s",
            flush=True,
        )
    print()
    print(format_table(report))
    if features is not None:
        report["cold_start"] = cold_start(data, features)
        cs = report["cold_start"]
        print(
            f"\ncold start: {cs['hidden_items']} featured test items hidden from train, "
            f"{cs['users']} users"
        )
        print("| ranking of hidden items | recall@10 | ndcg@10 | AUC |\n|---|---|---|---|")
        for name in ("content", "random"):
            r = cs[name]
            print(f"| {name} | {r['recall@10']:.3f} | {r['ndcg@10']:.3f} | {r['auc']:.3f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=float))
    if not math.isfinite(sum(m[f"ndcg@{args.k}"] for m in report["models"].values())):
        raise SystemExit("non-finite metric")


if __name__ == "__main__":
    main()
