"""Issue 13, second round: what else was tried on validation to beat tuned ALS (all lost).

Usage (from the repository root; component scores are cached by ``lab.py`` under /tmp):
    .venv/bin/python bench/quality_lab/round2.py [blends|ensembles|rerank|fresh]

Every figure is on the ``val`` stage of ``lab.py`` (the protocol rule applied again to the dev
half's train side, seed 43); nothing here looks at the protocol test split.

* ``blends``: coordinate ascent over z-normalised ALS, ALS reg 60, EASE, RP3beta, user-kNN,
  content, GF-CF (Shen et al. 2021), BPR and EASE on bm25, plus ALS + beta log(popularity);
* ``ensembles``: ALS seeds 42-45 averaged, ALS 64/128/256 factors averaged, ALS alpha grid;
* ``rerank``: a gradient-boosted re-ranker over ALS's top 100 (model scores and ranks, item
  popularity and play intensity, history length), cross-fitted on two halves of the users;
* ``fresh``: half of the featured validation items hidden from train (a fresh catalog):
  ALS, EASE + audio centroid, never-played items scored by their acoustic neighbours' ALS
  scores (k-nearest warm items in audio space) instead of the centroid cosine, and the served
  engine with more weight on content for items without plays.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab  # the lab's helpers sit beside this file


def znorm(s: np.ndarray, stage: lab.Stage, fill: float = 0.0) -> np.ndarray:
    """Per-user z-score over unseen items; seen items get ``fill``."""
    out = np.array(s, dtype=np.float64)
    seen = stage.seen.nonzero()
    out[seen] = np.nan
    mu = np.nanmean(out, axis=1, keepdims=True)
    sd = np.nanstd(out, axis=1, keepdims=True)
    sd[sd == 0] = 1.0
    out = (out - mu) / sd
    out[seen] = fill
    return out


def show(stage: lab.Stage, label: str, scores: np.ndarray) -> tuple[float, float]:
    m = stage.metrics(scores)
    ndcg, cov = round(m["ndcg@10"], 4), round(m["coverage@10"], 4)
    print(f"{label:60s} ndcg@10 {ndcg:.4f}  coverage@10 {cov:.4f}", flush=True)
    return ndcg, cov


def als(stage: lab.Stage, **params: Any) -> np.ndarray:
    base = {"factors": 256, "reg": 100.0, "iters": 30, "seed": 42}
    return lab.cached(stage, "als", {**base, **params}, lab.als_scores)


def bpr_scores(stage: lab.Stage, factors: int = 128, lr: float = 0.05, reg: float = 0.01) -> Any:
    from implicit.bpr import BayesianPersonalizedRanking
    from threadpoolctl import threadpool_limits

    x = lab.log1p(stage.train)
    x.data[:] = 1.0
    model = BayesianPersonalizedRanking(
        factors=factors, learning_rate=lr, regularization=reg, iterations=200, random_state=42
    )
    with threadpool_limits(1, "blas"):
        model.fit(x, show_progress=False)
    return np.asarray(model.user_factors)[stage.users] @ np.asarray(model.item_factors).T


def gfcf_scores(stage: lab.Stage, k: int = 256, alpha: float = 0.3) -> np.ndarray:
    """GF-CF: normalised linear filter plus an ideal low-pass of rank ``k`` (log1p rows)."""
    from scipy.sparse.linalg import svds

    r = lab.log1p(stage.train).astype(np.float64)
    du = np.asarray(r.sum(axis=1)).ravel()
    di = np.asarray(r.sum(axis=0)).ravel()
    du[du == 0], di[di == 0] = 1.0, 1.0
    rt = (sp.diags(du**-0.5) @ r @ sp.diags(di**-0.5)).tocsr()
    ru = r[stage.users]
    linear = np.asarray(((ru @ rt.T) @ rt).toarray())
    _, _, vt = svds(rt, k=k)
    low = ((ru.toarray() * di[None, :] ** 0.5) @ vt.T) @ vt * di[None, :] ** -0.5
    return np.asarray(linear + alpha * low)


def blends(stage: lab.Stage) -> None:
    parts = {
        "als": als(stage),
        "als_reg60": als(stage, reg=60.0),
        "ease": lab.cached(stage, "ease", {"l2": 2000.0, "min_users": 2}, lab.ease_scores),
        "rp3": lab.cached(stage, "rp3", {"k": 500, "alpha": 1.0, "beta": 0.3}, lab.rp3_scores),
        "uknn": lab.cached(stage, "uknn", {"k": 50}, lab.userknn_scores),
        "content": lab.cached(stage, "content", {}, lambda st: lab.content_scores(st)),
        "gfcf": lab.cached(stage, "gfcf", {"k": 256, "alpha": 0.3}, gfcf_scores),
        "bpr": lab.cached(stage, "bpr", {"factors": 128, "lr": 0.05, "reg": 0.01}, bpr_scores),
        "ease_bm25": lab.cached(
            stage, "edlae", {"l2": 300.0, "p": 0.0, "min_users": 2, "bm25": True}, lab.edlae_scores
        ),
    }
    z = {name: znorm(s, stage) for name, s in parts.items()}
    for name, s in z.items():
        show(stage, name, s)
    logpop = np.log1p(stage.pop)[None, :]
    for beta in (-0.3, -0.1, 0.05, 0.1, 0.2):
        show(stage, f"als + {beta} log1p(users)", z["als"] + beta * logpop)
    weights = {name: 0.0 for name in z}
    weights["als"] = 1.0
    best = show(stage, "coordinate ascent: start (als)", z["als"])[0]
    for _ in range(2):
        for name in z:
            if name == "als":
                continue
            for g in (0.05, 0.1, 0.2, 0.3, 0.5, 0.8):
                trial = {**weights, name: g}
                s = sum(w * z[n] for n, w in trial.items() if w)
                ndcg = stage.metrics(s)["ndcg@10"]
                if ndcg > best + 1e-4:
                    best, weights = ndcg, trial
    s = sum(w * z[n] for n, w in weights.items() if w)
    show(stage, f"coordinate ascent: { ({n: w for n, w in weights.items() if w}) }", s)


def ensembles(stage: lab.Stage) -> None:
    total = np.zeros((stage.users.size, stage.n_items))
    for seed in (42, 43, 44, 45):
        s = als(stage, seed=seed)
        show(stage, f"ALS 256 seed {seed}", s)
        total += s
    show(stage, "ALS 256, seeds 42-45 averaged", total)
    ranks = [znorm(als(stage, factors=f), stage) for f in (64, 128, 256)]
    show(stage, "ALS 64 + 128 + 256 (z-normalised)", sum(ranks))
    for alpha, reg in ((0.25, 25.0), (0.5, 50.0), (2.0, 100.0), (2.0, 200.0), (4.0, 200.0)):
        show(
            stage, f"ALS 128 alpha {alpha} reg {reg}", als(stage, factors=128, reg=reg, alpha=alpha)
        )


def rerank(stage: lab.Stage, depth: int = 100) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    parts = {
        "als": als(stage),
        "als_reg60": als(stage, reg=60.0),
        "ease": lab.cached(stage, "ease", {"l2": 2000.0, "min_users": 2}, lab.ease_scores),
        "rp3": lab.cached(stage, "rp3", {"k": 500, "alpha": 1.0, "beta": 0.3}, lab.rp3_scores),
        "uknn": lab.cached(stage, "uknn", {"k": 50}, lab.userknn_scores),
        "content": lab.cached(stage, "content", {}, lambda st: lab.content_scores(st)),
    }
    z = {name: znorm(s, stage, fill=-50.0) for name, s in parts.items()}
    nu = stage.users.size
    cand = np.argpartition(-z["als"], depth, axis=1)[:, :depth]
    rows, cols = np.repeat(np.arange(nu), depth), cand.ravel()
    intensity = np.asarray(lab.log1p(stage.train).sum(axis=0)).ravel() / np.maximum(stage.pop, 1)
    feats = [z[n][rows, cols] for n in z]
    feats += [np.argsort(np.argsort(-z[n], axis=1), axis=1)[rows, cols] for n in ("als", "ease")]
    feats += [np.log1p(stage.pop)[cols], intensity[cols], np.diff(stage.seen.indptr)[rows]]
    x = np.column_stack(feats).astype(np.float32)
    y = np.asarray(stage.test[stage.users][rows, cols]).ravel() > 0
    pred = np.zeros(y.size)
    half = rows % 2 == 0
    for fit_on in (half, ~half):
        model = HistGradientBoostingClassifier(
            max_iter=300, learning_rate=0.05, min_samples_leaf=50, l2_regularization=1.0
        )
        model.fit(x[fit_on], y[fit_on])
        pred[~fit_on] = model.predict_proba(x[~fit_on])[:, 1]
    out = np.full((nu, stage.n_items), -np.inf)
    out[rows, cols] = pred
    show(stage, "ALS", z["als"])
    show(stage, f"gradient-boosted re-rank of ALS's top {depth}", out)


def fresh(stage: lab.Stage, share: float = 0.5) -> None:
    from madhur_gql.recommender.content import ContentIndex
    from madhur_gql.recommender.evaluation import align_features

    f = align_features(lab.FEATS, stage.data.item_ids)
    rng = np.random.default_rng(7)
    pool = np.flatnonzero(f.present & (np.diff(stage.test.tocsc().indptr) > 0))
    hidden = np.sort(rng.choice(pool, size=int(share * pool.size), replace=False))
    train = stage.train.tolil(copy=True)
    train[:, hidden] = 0
    cut = lab.Stage(f"{stage.name}hid{share}", stage.data, sp.csr_matrix(train), stage.test)
    cut.train.eliminate_zeros()
    print(f"{hidden.size} items hidden, {cut.test[cut.users][:, hidden].nnz} test entries")
    a = als(cut)
    show(cut, "ALS", a)
    ease = lab.norm_max(
        lab.cached(cut, "ease", {"l2": 2000.0, "min_users": 2}, lab.ease_scores), cut
    )
    content = lab.cached(cut, "content", {}, lambda st: lab.content_scores(st))
    for w in (0.0, 0.1, 0.3, 0.8):
        show(cut, f"EASE + {w} x audio centroid", ease + w * content)
    vec = ContentIndex.build(np.where(f.present[:, None], f.values, np.nan)).vectors
    truth = cut.test[cut.users][:, hidden].tocsr()
    profile = np.asarray(lab.log1p(cut.seen) @ vec)
    profile /= np.maximum(np.linalg.norm(profile, axis=1, keepdims=True), 1e-9)
    print(
        f"hidden items ranked among themselves, audio centroid: {among(truth, profile @ vec[hidden].T):.4f}"
    )
    warm = np.flatnonzero(f.present & (cut.pop >= 1))
    sim = vec[hidden] @ vec[warm].T
    for k in (10, 30, 100):
        kth = np.partition(sim, -k, axis=1)[:, -k][:, None]
        w_k = np.where(sim >= kth, np.maximum(sim, 0.0), 0.0)
        w_k /= w_k.sum(axis=1, keepdims=True)
        smooth = a[:, warm] @ w_k.T
        print(
            f"hidden items ranked among themselves, {k} acoustic neighbours: {among(truth, smooth):.4f}"
        )
        for g in (1.0, 2.0, 3.0):
            s = a.copy()
            s[:, hidden] = g * smooth
            show(cut, f"ALS, hidden items = {g} x mean ALS score of {k} acoustic neighbours", s)
    engine_content(cut, f)


def engine_content(cut: lab.Stage, features: Any) -> None:
    """The served engine on the fresh-catalog stage, its content weight for items without CF
    evidence (``content_max``) varied on one build."""
    import dataclasses

    from madhur_gql.recommender.blas import single_threaded_blas
    from madhur_gql.recommender.served import ServedEngine

    single_threaded_blas()
    model = ServedEngine(10)
    model.fit(cut.train, features)
    engine = model.engine
    assert engine is not None
    for content_max in (0.6, 0.8, 1.0):
        cfg = dataclasses.replace(engine.config, content_max=content_max)
        engine.config = engine.items.config = cfg
        engine.items.set_evidence(engine.items.evidence)  # refreshes the content weights
        show(
            cut, f"served engine, content_max {content_max}", model.score_users(cut.users, cut.seen)
        )


def among(truth: sp.csr_matrix, scores: np.ndarray, k: int = 10) -> float:
    """ndcg@k of the hidden items ranked among themselves, over users with a hidden test item."""
    disc = 1.0 / np.log2(np.arange(k) + 2.0)
    total, users = 0.0, 0
    for r in range(truth.shape[0]):
        rel = truth.indices[truth.indptr[r] : truth.indptr[r + 1]]
        if rel.size:
            users += 1
            top = np.argsort(-scores[r])[:k]
            total += float(np.isin(top, rel) @ disc) / disc[: min(k, rel.size)].sum()
    return total / max(users, 1)


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "blends"
    stage = lab.stages()["val"]
    {"blends": blends, "ensembles": ensembles, "rerank": rerank, "fresh": fresh}[what](stage)


if __name__ == "__main__":
    main()
