"""Recommendation quality on the Last.fm dev split (PROTOCOL.md), all models in one run.

Usage:
    .venv/bin/python bench/recommender_quality.py \\
        --interactions /work/shared/data/lastfm_dev_user_artists.tsv \\
        --item-features /work/shared/data/lastfm_artist_audio_features.csv [--no-implicit] \\
        [--hide-shares 0.1 0.5] [--cold-only]

Prints a markdown table (and JSON with --json): the rows of ``madhur-gql evaluate`` (popularity,
item_knn, rp3beta, ease, als and ``madhur``, the served engine end to end) plus implicit's
Cosine/BM25 item-kNN, and cold-start figures for items hidden from train: ranked by content
alone, and inside full-catalog lists of the served engine, ALS and the issue's EASE + audio
centroid baseline, with 10 % of the featured test items hidden (a few new songs) and 50 % (a
fresh catalog, where much of what users go on to play has no plays yet).
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


class EaseCentroid:
    """The issue's baseline for new songs: EASE (lambda 2000 on log1p, max-normalised per user)
    plus ``weight`` x the cosine between an item's audio vector and the mean vector of the
    user's train items (log1p weights). ``weight`` 0.1 was the best of 0-0.8 on validation
    (the dev half's train side split again, half of its featured test items hidden)."""

    def __init__(self, weight: float = 0.1, l2: float = 2000.0) -> None:
        from madhur_gql.recommender.collaborative import EASE

        self.weight, self.name = weight, "ease+centroid"
        self.ease = EASE(l2, name="ease")
        self.vectors = np.zeros((0, 0), dtype=np.float32)

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        self.ease.fit(interactions, features)
        n = interactions.shape[1]
        if features is None:
            self.vectors = np.zeros((n, 1), dtype=np.float32)
            return
        raw = np.where(features.present[:, None], features.values, np.nan)
        self.vectors = ContentIndex.build(raw).vectors

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        cf = np.asarray(self.ease.score(user_rows), dtype=np.float64)
        masked = cf.copy()
        masked[user_rows.nonzero()] = 0.0
        top = np.abs(masked).max(axis=1, keepdims=True)
        top[top == 0] = 1.0
        x = user_rows.astype(np.float32)
        x.data = np.log1p(x.data)
        profile = np.asarray(x @ self.vectors, dtype=np.float64)
        norms = np.linalg.norm(profile, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        content = np.maximum((profile / norms) @ self.vectors.T, 0.0)
        return np.asarray(cf / top + self.weight * content)


def hide_items(
    data: EvalData, features: ItemFeatures, share: float
) -> tuple[np.ndarray, sp.csr_matrix]:
    """(hidden items, train without them): a ``share`` of the featured test items, removed from
    train entirely, so no collaborative signal exists for them (seed 7)."""
    rng = np.random.default_rng(7)
    in_test = np.diff(data.test.tocsc().indptr) > 0
    pool = np.flatnonzero(features.present & in_test)
    hidden = np.sort(rng.choice(pool, size=max(1, int(share * pool.size)), replace=False))
    train = data.train.tolil(copy=True)
    train[:, hidden] = 0
    out = sp.csr_matrix(train)
    out.eliminate_zeros()
    return hidden, out


def cold_start(data: EvalData, features: ItemFeatures, share: float = 0.1) -> dict[str, Any]:
    """Hide a share of featured test items from train entirely; rank them by content only.

    Every test user with a hidden item in its test set ranks the whole hidden set with the
    cosine between each hidden item and the mean of its train items' audio vectors (log1p
    weights). Reported against random ranking of the same set (mean of 200 shuffles).
    """
    rng = np.random.default_rng(7)
    hidden, train = hide_items(data, features, share)
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
) -> dict[str, Any]:
    """Items nobody played in train, inside full-catalog lists: a ``share`` of the featured
    test items hidden (:func:`hide_items`), each model built without them, lists of 10 and 50
    for every test user; ndcg@10 over all test items and how many hidden test items the lists
    contain. ALS cannot reach an item without plays; the served engine and the EASE + centroid
    baseline can, through the audio features."""
    from madhur_gql.recommender.baselines import ImplicitALS

    hidden, train = hide_items(data, features, share)
    users = np.flatnonzero(np.diff(data.test.indptr) > 0)
    relevant_hidden = int(data.test[users][:, hidden].nnz)
    out: dict[str, Any] = {
        "share": share,
        "hidden_items": int(hidden.size),
        "hidden_test_entries": relevant_hidden,
        "test_entries": int(data.test[users].nnz),
        "models": {},
    }
    for model in (ServedEngine(first=50), ImplicitALS(), EaseCentroid()):
        model.fit(train, features)
        top50 = rank_users(model, train, users, 50)
        m = evaluate_topk(top50[:, :k], data.test, users, data.train.shape[1], k)
        hits10 = hits50 = 0
        for row, u in enumerate(users.tolist()):
            rel = data.test.indices[data.test.indptr[u] : data.test.indptr[u + 1]]
            rel = rel[np.isin(rel, hidden)]
            hits10 += int(np.isin(top50[row, :k], rel).sum())
            hits50 += int(np.isin(top50[row], rel).sum())
        out["models"][model.name] = {
            "ndcg@10": m[f"ndcg@{k}"],
            "coverage@10": m[f"coverage@{k}"],
            "hidden@10": hits10,
            "hidden@50": hits50,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", default=DEFAULT_INTERACTIONS)
    parser.add_argument("--item-features", default=DEFAULT_FEATURES)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--no-implicit", action="store_true")
    parser.add_argument(
        "--hide-shares",
        type=float,
        nargs="+",
        default=[0.1, 0.5],
        help="shares of featured test items hidden from train for the cold-start lists",
    )
    parser.add_argument("--cold-only", action="store_true", help="skip the model table")
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
    for model in [] if args.cold_only else models:
        report["models"][model.name] = evaluate_model(model, data, k=args.k, features=features)
        m = report["models"][model.name]
        print(
            f"{model.name:40s} ndcg@{args.k}={m[f'ndcg@{args.k}']:.4f} "
            f"coverage@{args.k}={m[f'coverage@{args.k}']:.3f} fit={m['fit_seconds']:.1f}s "
            f"score={m['score_seconds']:.1f}s",
            flush=True,
        )
    if report["models"]:
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
        report["cold_in_blend"] = {}
        for share in args.hide_shares:
            blend = report["cold_in_blend"][str(share)] = cold_in_blend(
                data, features, args.k, share
            )
            print(
                f"\n{blend['hidden_items']} featured test items ({share:.0%}) hidden from train, "
                f"{blend['hidden_test_entries']} of {blend['test_entries']} test entries:"
            )
            print("| model | ndcg@10 | coverage@10 | hidden items in top 10 | in top 50 |")
            print("|---|---|---|---|---|")
            for name, r in blend["models"].items():
                print(
                    f"| {name} | {r['ndcg@10']:.3f} | {r['coverage@10']:.3f} | "
                    f"{r['hidden@10']} | {r['hidden@50']} |",
                    flush=True,
                )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=float))
    if not math.isfinite(sum(m[f"ndcg@{args.k}"] for m in report["models"].values())):
        raise SystemExit("non-finite metric")


if __name__ == "__main__":
    main()
