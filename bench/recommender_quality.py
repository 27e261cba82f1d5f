"""Recommendation quality on the Last.fm dev split (PROTOCOL.md), all models in one run.

Usage:
    .venv/bin/python bench/recommender_quality.py \\
        --interactions /work/shared/data/lastfm_dev_user_artists.tsv \\
        --item-features /work/shared/data/lastfm_artist_audio_features.csv [--no-implicit]

Prints a markdown table (and JSON with --json): the rows of ``madhur-gql evaluate`` (popularity,
item_knn, rp3beta, ease, als and ``madhur``, the served engine end to end) plus implicit's
Cosine/BM25 item-kNN, and cold-start figures for items hidden from train: ranked by content
alone, and inside the served engine's blended full-catalog lists.
Data stays outside the repo; nothing here writes into it except bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from madhur_gql.recommender.blas import single_threaded_blas
from madhur_gql.recommender.content import ContentIndex
from madhur_gql.recommender.evaluation import (
    EvalData,
    ItemFeatures,
    Model,
    align_features,
    default_models,
    evaluate_model,
    evaluate_topk,
    format_table,
    index_split,
    load_interactions,
    rank_users,
    split_protocol,
)
from madhur_gql.recommender.served import ServedEngine

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


def cold_in_blend(
    data: EvalData, features: ItemFeatures, k: int, share: float = 0.1
) -> dict[str, dict[str, Any]]:
    """Items nobody played in train, inside the blended list: the same hidden items as
    :func:`cold_start`, the served engine built without them, full-catalog lists of 10 and 50
    for every test user; how many hidden test items they contain (ALS alongside: it cannot
    reach an item without plays)."""
    from madhur_gql.recommender.baselines import ImplicitALS

    rng = np.random.default_rng(7)
    in_test = np.diff(data.test.tocsc().indptr) > 0
    pool = np.flatnonzero(features.present & in_test)
    hidden = np.sort(rng.choice(pool, size=max(1, int(share * pool.size)), replace=False))
    train = data.train.tolil(copy=True)
    train[:, hidden] = 0
    train = sp.csr_matrix(train)
    train.eliminate_zeros()
    users = np.flatnonzero(np.diff(data.test.indptr) > 0)
    out: dict[str, dict[str, Any]] = {}
    for model in (ServedEngine(first=50), ImplicitALS()):
        model.fit(train, features)
        top50 = rank_users(model, train, users, 50)
        m = evaluate_topk(top50[:, :k], data.test, users, data.train.shape[1], k)
        hits10 = hits50 = 0
        for row, u in enumerate(users.tolist()):
            rel = data.test.indices[data.test.indptr[u] : data.test.indptr[u + 1]]
            rel = rel[np.isin(rel, hidden)]
            hits10 += int(np.isin(top50[row, :k], rel).sum())
            hits50 += int(np.isin(top50[row], rel).sum())
        out[model.name] = {"ndcg@10": m[f"ndcg@{k}"], "hidden@10": hits10, "hidden@50": hits50}
    return out


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

    single_threaded_blas()  # as the API serves
    models: list[Model] = [factory() for factory in default_models(args.k).values()]
    if not args.no_implicit:
        models[1:1] = [ImplicitItemKNN("cosine"), ImplicitItemKNN("bm25")]

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
        report["cold_in_blend"] = cold_in_blend(data, features, args.k)
        print("\nthe same hidden items inside the served engine's full-catalog lists:")
        print("| model | ndcg@10 (all test items) | hidden items in top 10 | in top 50 |")
        print("|---|---|---|---|")
        for name, r in report["cold_in_blend"].items():
            print(f"| {name} | {r['ndcg@10']:.3f} | {r['hidden@10']} | {r['hidden@50']} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=float))
    if not math.isfinite(sum(m[f"ndcg@{args.k}"] for m in report["models"].values())):
        raise SystemExit("non-finite metric")


if __name__ == "__main__":
    main()
