"""Offline lab for issue 13: component scores on a validation split and the reported test split.

Two stages, both from the protocol split in madhur_gql.recommender.evaluation:

* ``test``: fit on the protocol train side of the dev half, score the protocol test users;
* ``val``:  the protocol split applied again to the train side (seed 43), fit on what remains,
  score the validation users. Everything is tuned here; ``test`` only reports.

Component scores are cached under /tmp/quality_lab/ as float32 (users x items) arrays.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np
import scipy.sparse as sp

from madhur_gql.recommender.collaborative import ease_weights, rp3beta_similarity
from madhur_gql.recommender.content import ContentIndex
from madhur_gql.recommender.evaluation import (
    EvalData,
    align_features,
    evaluate_topk,
    index_split,
    load_interactions,
    split_protocol,
    topk_rows,
)

DATA = "/work/shared/data/lastfm_dev_user_artists.tsv"
FEATS = "/work/shared/data/lastfm_artist_audio_features.csv"
CACHE = Path("/tmp/quality_lab")
CACHE.mkdir(exist_ok=True)


class Stage:
    """Train matrix, target users and their relevant items for one stage."""

    def __init__(self, name: str, data: EvalData, train: sp.csr_matrix, test: sp.csr_matrix):
        self.name = name
        self.data = data
        self.train = train.tocsr()
        self.test = test.tocsr()
        self.users = np.flatnonzero(np.diff(self.test.indptr) > 0)
        self.n_items = train.shape[1]
        self.seen = self.train[self.users]
        self.pop = np.diff(self.train.tocsc().indptr).astype(np.float64)

    def metrics(self, scores: np.ndarray, k: int = 10) -> dict[str, float]:
        s = np.array(scores, dtype=np.float64, copy=True)
        s[self.seen.nonzero()] = -np.inf
        top = topk_rows(s, k)
        return evaluate_topk(top, self.test, self.users, self.n_items, k)


def stages() -> dict[str, Stage]:
    df = load_interactions(DATA)
    train_df, test_df = split_protocol(df)
    data = index_split(train_df, test_df)
    out = {"test": Stage("test", data, data.train, data.test)}
    # validation: the same rule on the train side, another seed; same item/user index
    tr2, val = split_protocol(train_df, seed=43)
    item_pos = {v: i for i, v in enumerate(data.item_ids)}
    user_pos = {v: i for i, v in enumerate(data.user_ids)}

    def mat(frame: Any, weights: bool) -> sp.csr_matrix:
        r = frame["user_id"].astype(str).map(user_pos).to_numpy()
        c = frame["item_id"].astype(str).map(item_pos).to_numpy()
        v = frame["weight"].to_numpy(np.float64) if weights else np.ones(len(frame))
        m = sp.csr_matrix((v, (r, c)), shape=data.train.shape)
        m.sum_duplicates()
        if not weights:
            m.data[:] = 1.0
        return m

    out["val"] = Stage("val", data, mat(tr2, True), mat(val, False))
    for name, seed, share in (("val44", 44, 0.2), ("vald", 45, 0.1)):
        a, b = split_protocol(train_df, seed=seed, test_share=share)
        out[name] = Stage(name, data, mat(a, True), mat(b, False))
    return out


def features(data: EvalData) -> tuple[np.ndarray, np.ndarray]:
    """(unit content vectors, present mask) aligned to the catalog."""
    f = align_features(FEATS, data.item_ids)
    names = [
        "danceability",
        "energy",
        "valence",
        "tempo",
        "acousticness",
        "instrumentalness",
        "speechiness",
        "liveness",
        "loudness",
    ]
    col = {n: j for j, n in enumerate(f.names)}
    raw = np.full((f.values.shape[0], len(names)), np.nan, dtype=np.float32)
    for i, n in enumerate(names):
        raw[:, i] = f.values[:, col[n]]
    raw[~f.present] = np.nan
    idx = ContentIndex.build(raw)
    return idx.vectors, idx.present


def _key(stage: Stage, kind: str, params: dict[str, Any]) -> Path:
    h = hashlib.sha1(
        json.dumps(params, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()[:12]
    return CACHE / f"{stage.name}_{kind}_{h}.npy"


def cached(stage: Stage, kind: str, params: dict[str, Any], fn: Any) -> np.ndarray:
    p = _key(stage, kind, params)
    if p.exists():
        return np.load(p)
    t0 = time.perf_counter()
    s = np.asarray(fn(stage, **params), dtype=np.float32)
    np.save(p, s)
    print(f"  [{stage.name}] {kind} {params} {time.perf_counter() - t0:.1f}s", flush=True)
    return s


def log1p(x: sp.csr_matrix) -> sp.csr_matrix:
    y = x.astype(np.float32, copy=True)
    y.data = np.log1p(y.data)
    return y


def prepare(x: sp.csr_matrix, prep: str) -> sp.csr_matrix:
    """Raw plays -> confidence input: log1p, or per-user normalised variants."""
    x = x.tocsr().astype(np.float32, copy=True)
    target_mean = float(
        np.log1p(x.data).mean()
    )  # other variants keep log1p's mean (same reg scale)
    if prep == "log1p":
        x.data = np.log1p(x.data)
        return x
    x = _prepare_raw(x, prep)
    x.data *= target_mean / float(x.data.mean())
    return x


def _prepare_raw(x: sp.csr_matrix, prep: str) -> sp.csr_matrix:
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    if prep.startswith("umed"):  # plays relative to the user's median, log1p, times a scale
        scale = float(prep[4:] or 1)
        med = np.array(
            [
                np.median(x.data[a:b]) if b > a else 1.0
                for a, b in zip(x.indptr[:-1], x.indptr[1:], strict=False)
            ]
        )
        x.data = scale * np.log1p(x.data / med[rows])
        return x
    if prep.startswith("rank"):  # within-user percentile (1 = top), plus a floor
        floor = float(prep[4:] or 0.5)
        out = np.empty_like(x.data)
        for a, b in zip(x.indptr[:-1], x.indptr[1:], strict=False):
            if b > a:
                r = np.argsort(np.argsort(x.data[a:b]))
                out[a:b] = floor + (r + 1) / (b - a)
        x.data = out
        return x
    raise ValueError(prep)


def als_scores(
    stage: Stage,
    factors: int = 256,
    reg: float = 80.0,
    iters: int = 30,
    k1: float = 100.0,
    b: float = 0.8,
    alpha: float = 1.0,
    seed: int = 42,
    cg: bool = True,
    prep: str = "log1p",
) -> np.ndarray:
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import bm25_weight
    from threadpoolctl import threadpool_limits

    x = prepare(stage.train, prep)
    w = bm25_weight(x, K1=k1, B=b).tocsr().astype(np.float32)
    model = AlternatingLeastSquares(
        factors=factors,
        regularization=reg,
        iterations=iters,
        alpha=alpha,
        random_state=seed,
        num_threads=2,
        use_cg=cg,
    )
    with threadpool_limits(1, "blas"):
        model.fit(w, show_progress=False)
    u = np.asarray(model.user_factors)[stage.users]
    return u @ np.asarray(model.item_factors).T


def ease_scores(
    stage: Stage, l2: float = 2000.0, min_users: int = 1, weighting: str = "log1p"
) -> np.ndarray:
    x = log1p(stage.train) if weighting == "log1p" else stage.train.astype(np.float32)
    if weighting == "binary":
        x.data[:] = 1.0
    items = np.flatnonzero(stage.pop >= min_users)
    b = ease_weights(x, items, l2)
    u = x[stage.users][:, items]
    out = np.zeros((stage.users.size, stage.n_items), dtype=np.float32)
    out[:, items] = np.asarray(u @ b)
    return out


def rp3_scores(
    stage: Stage, k: int = 500, alpha: float = 1.0, beta: float = 0.3, weighting: str = "binary"
) -> np.ndarray:
    x = log1p(stage.train)
    if weighting == "binary":
        x.data[:] = 1.0
    w = rp3beta_similarity(x, k, alpha=alpha, beta=beta)
    return np.asarray((x[stage.users] @ w).toarray())


def content_scores(stage: Stage) -> np.ndarray:
    vec, _present = features(stage.data)
    x = log1p(stage.seen)
    prof = np.asarray(x @ vec)  # weighted sum
    norms = np.linalg.norm(prof, axis=1, keepdims=True)
    norms[norms == 0] = 1
    prof /= norms
    return np.maximum(prof @ vec.T, 0.0)


def norm_max(s: np.ndarray, stage: Stage) -> np.ndarray:
    """Per-user scale by the max over unseen items (EASE/RP3 style)."""
    m = np.array(s, dtype=np.float64, copy=True)
    m[stage.seen.nonzero()] = 0.0
    top = np.abs(m).max(axis=1, keepdims=True)
    top[top == 0] = 1
    return s / top


def norm_z(s: np.ndarray, stage: Stage) -> np.ndarray:
    mu = s.mean(axis=1, keepdims=True)
    sd = s.std(axis=1, keepdims=True)
    sd[sd == 0] = 1
    return (s - mu) / sd


def edlae_scores(
    stage: Stage,
    l2: float = 500.0,
    p: float = 0.3,
    min_users: int = 2,
    prep: str = "log1p",
    bm25: bool = False,
) -> np.ndarray:
    """EASE with dropout-style, frequency-scaled l2 (Steck 2020, EDLAE): diag += l2 + p/(1-p) G_ii."""
    import scipy.linalg
    from implicit.nearest_neighbours import bm25_weight

    x = prepare(stage.train, prep)
    if bm25:
        x = bm25_weight(x, K1=100, B=0.8).tocsr().astype(np.float32)
    items = np.flatnonzero(stage.pop >= min_users)
    sub = x[:, items].astype(np.float64)
    g = (sub.T @ sub).toarray()
    d = np.diag(g).copy()
    g[np.diag_indices_from(g)] += l2 + p / (1 - p) * d
    pinv = scipy.linalg.inv(g, overwrite_a=True, check_finite=False)
    b = -pinv / np.diag(pinv)
    np.fill_diagonal(b, 0.0)
    u = x[stage.users][:, items]
    out = np.zeros((stage.users.size, stage.n_items), dtype=np.float32)
    out[:, items] = np.asarray(u @ b)
    return out


def userknn_scores(
    stage: Stage,
    k: int = 100,
    weighting: str = "bm25",
    shrink: float = 0.0,
    alpha: float = 0.5,
    power: float = 1.0,
) -> np.ndarray:
    """User-kNN: cosine (asymmetric alpha) between users on weighted rows, top-k neighbours."""
    from implicit.nearest_neighbours import bm25_weight

    x = log1p(stage.train)
    if weighting == "bm25":
        x = bm25_weight(x, K1=100, B=0.8).tocsr().astype(np.float32)
    elif weighting == "binary":
        x.data[:] = 1.0
    sq = np.asarray(x.multiply(x).sum(axis=1)).ravel()
    u = x[stage.users]
    sim = np.asarray((u @ x.T).toarray(), dtype=np.float64)
    sim /= (
        np.power(sq[stage.users], alpha)[:, None] * np.power(sq, 1 - alpha)[None, :]
        + shrink
        + 1e-12
    )
    sim[np.arange(stage.users.size), stage.users] = 0.0
    if k < sim.shape[1]:
        cut = np.partition(sim, -k, axis=1)[:, -k][:, None]
        sim[sim < cut] = 0.0
    sim = np.power(np.maximum(sim, 0), power)
    target = log1p(stage.train)
    if weighting == "binary":
        target.data[:] = 1.0
    return np.asarray((sp.csr_matrix(sim) @ target).toarray())


def engine_metrics(
    stage: Stage, config: Any = None, first: int = 10
) -> tuple[dict[str, float], Any]:
    """The served engine (madhur_gql.recommender.served) built on the stage's train, scored."""
    from madhur_gql.recommender.served import ServedEngine

    f = align_features(FEATS, stage.data.item_ids)
    model = ServedEngine(first, config)
    t0 = time.perf_counter()
    model.fit(stage.train, f)
    t1 = time.perf_counter()
    scores = model.score_users(stage.users, stage.seen)
    m = stage.metrics(scores)
    m["build_s"], m["rank_s"] = t1 - t0, time.perf_counter() - t1
    return m, model
