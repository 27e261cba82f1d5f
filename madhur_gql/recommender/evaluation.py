"""Offline evaluation following ``/work/shared/eval/PROTOCOL.md``.

Every model is scored the same way so numbers compare side by side:

* split per user with one ``numpy.random.default_rng(42)``, users in ascending id order;
  users with fewer than 5 items stay wholly in train, every other user sends the first
  ``max(1, round(0.2 * n))`` items of a shuffle of its items to test;
* full-catalog ranking (every item seen in train or test) minus the user's train items;
* precision / recall / ndcg / hit_rate / coverage at ``k`` with binary relevance.

Models implement :class:`Model`: ``fit`` on a users x items CSR of raw weights and ``score``
a batch of user rows into dense float scores. Evaluation owns masking and top-k selection so
no model can cheat by leaving train items in its lists.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from madhur_gql.recommender.model_api import ItemFeatures, Model

MIN_ITEMS_TO_SPLIT = 5
TEST_SHARE = 0.2
SEED = 42
BATCH_USERS = 256


def load_interactions(path: str | Path) -> pd.DataFrame:
    """Read a ``user_id item_id weight`` file (TSV, or CSV when the suffix says so).

    Ids are kept as strings so any id scheme works; weight defaults to 1 when absent.
    """
    p = Path(path)
    sep = "," if p.suffix.lower() == ".csv" else "\t"
    df = pd.read_csv(p, sep=sep, dtype={"user_id": str, "item_id": str})
    if "weight" not in df.columns:
        df["weight"] = 1.0
    df = df[["user_id", "item_id", "weight"]].copy()
    df["weight"] = df["weight"].astype(np.float64)
    return df


def _user_order(users: pd.Series) -> np.ndarray:
    """Distinct users in ascending order: numeric when every id is numeric, else lexicographic."""
    uniq = pd.unique(users)
    numeric = pd.to_numeric(pd.Series(uniq), errors="coerce")
    if not numeric.isna().any():
        return np.asarray(uniq[np.argsort(numeric.to_numpy(), kind="stable")])
    return np.asarray(sorted(uniq, key=str))


def split_protocol(
    df: pd.DataFrame, *, seed: int = SEED, test_share: float = TEST_SHARE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-user holdout split exactly as PROTOCOL.md describes.

    A user's items are taken in file order, shuffled with the one shared generator, and the
    first ``max(1, round(test_share * n))`` go to test. Users below 5 items do not draw from the
    generator, so adding a small user never shifts anyone else's split.
    """
    rng = np.random.default_rng(seed)
    groups = df.groupby("user_id", sort=False).indices
    test_rows: list[np.ndarray] = []
    train_rows: list[np.ndarray] = []
    for user in _user_order(df["user_id"]):
        rows = np.asarray(groups[user])
        n = rows.size
        if n < MIN_ITEMS_TO_SPLIT:
            train_rows.append(rows)
            continue
        shuffled = rows[rng.permutation(n)]
        n_test = max(1, round(test_share * n))
        test_rows.append(shuffled[:n_test])
        train_rows.append(shuffled[n_test:])
    train_idx = np.sort(np.concatenate(train_rows)) if train_rows else np.array([], dtype=int)
    test_idx = np.sort(np.concatenate(test_rows)) if test_rows else np.array([], dtype=int)
    return df.iloc[train_idx].reset_index(drop=True), df.iloc[test_idx].reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class EvalData:
    """Indexed train/test matrices over the shared catalog."""

    item_ids: np.ndarray  # catalog index -> item id (str)
    user_ids: np.ndarray  # row index -> user id (str)
    train: sp.csr_matrix  # users x items, raw weights
    test: sp.csr_matrix  # users x items, binary


def index_split(train: pd.DataFrame, test: pd.DataFrame) -> EvalData:
    """Map string ids of both halves onto one user and one item index."""
    both = pd.concat([train, test], ignore_index=True)
    item_codes, item_ids = pd.factorize(both["item_id"].astype(str))
    user_codes, user_ids = pd.factorize(both["user_id"].astype(str))
    n_users, n_items = len(user_ids), len(item_ids)
    n_train = len(train)
    w = train["weight"].to_numpy(dtype=np.float64)
    x_train = sp.csr_matrix(
        (w, (user_codes[:n_train], item_codes[:n_train])), shape=(n_users, n_items)
    )
    x_train.sum_duplicates()
    x_test = sp.csr_matrix(
        (
            np.ones(len(test), dtype=np.float32),
            (user_codes[n_train:], item_codes[n_train:]),
        ),
        shape=(n_users, n_items),
    )
    x_test.sum_duplicates()
    x_test.data[:] = 1.0
    return EvalData(
        np.asarray(item_ids, dtype=str), np.asarray(user_ids, dtype=str), x_train, x_test
    )


def align_features(path: str | Path, item_ids: np.ndarray) -> ItemFeatures:
    """Load an ``item_id,<features...>`` CSV and align it to the catalog order."""
    df = pd.read_csv(path, dtype={"item_id": str})
    names = tuple(c for c in df.columns if c not in ("item_id", "n_tracks"))
    df = df.drop_duplicates("item_id").set_index("item_id")
    aligned = df.reindex(pd.Index(item_ids.astype(str)))[list(names)]
    values = aligned.to_numpy(dtype=np.float32)
    present = ~np.isnan(values).any(axis=1)
    return ItemFeatures(names, values, present)


def topk_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best columns per row, best first (argpartition then a small sort)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def evaluate_topk(
    top: np.ndarray, test: sp.csr_matrix, users: np.ndarray, n_items: int, k: int
) -> dict[str, float]:
    """Metrics from precomputed top-k lists (rows aligned with ``users``)."""
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    prec = rec = ndcg = hits_any = 0.0
    for row, u in enumerate(users):
        relevant = test.indices[test.indptr[u] : test.indptr[u + 1]]
        rel = np.isin(top[row], relevant).astype(np.float64)
        hits = rel.sum()
        ideal_n = min(k, relevant.size)
        prec += hits / k
        rec += hits / ideal_n
        ndcg += float(rel @ discounts[: rel.size]) / float(discounts[:ideal_n].sum())
        hits_any += float(hits > 0)
    n = max(len(users), 1)
    return {
        f"precision@{k}": float(prec / n),
        f"recall@{k}": float(rec / n),
        f"ndcg@{k}": float(ndcg / n),
        f"hit_rate@{k}": float(hits_any / n),
        f"coverage@{k}": float(np.unique(top).size / n_items) if len(users) else 0.0,
    }


def rank_users(model: Model, train: sp.csr_matrix, users: np.ndarray, k: int) -> np.ndarray:
    """Top-k item indices for ``users``, never including their train items.

    Models with per-user state (factor models) may define ``score_users(user_idx, rows)``,
    which is preferred over ``score(rows)``.
    """
    out = np.empty((len(users), min(k, train.shape[1])), dtype=np.int64)
    for start in range(0, len(users), BATCH_USERS):
        batch = users[start : start + BATCH_USERS]
        rows = train[batch]
        score_users = getattr(model, "score_users", None)
        raw = score_users(batch, rows) if callable(score_users) else model.score(rows)
        scores = np.asarray(raw, dtype=np.float64)
        scores[rows.nonzero()] = -np.inf
        out[start : start + len(batch)] = topk_rows(scores, k)
    return out


def evaluate_model(
    model: Model,
    train: pd.DataFrame | EvalData,
    test: pd.DataFrame | None = None,
    k: int = 10,
    *,
    features: ItemFeatures | None = None,
    fit: bool = True,
) -> dict[str, float]:
    """Fit ``model`` on train and score it on test per the protocol.

    Accepts either two DataFrames or a prebuilt :class:`EvalData` (so many models share one
    index). Adds ``fit_seconds`` and ``score_seconds`` next to the metrics.
    """
    data = train if isinstance(train, EvalData) else index_split(train, _require(test))
    t0 = time.perf_counter()
    if fit:
        model.fit(data.train, features)
    t1 = time.perf_counter()
    users = np.flatnonzero(np.diff(data.test.indptr) > 0)
    top = rank_users(model, data.train, users, k)
    t2 = time.perf_counter()
    metrics = evaluate_topk(top, data.test, users, data.train.shape[1], k)
    metrics["fit_seconds"] = t1 - t0
    metrics["score_seconds"] = t2 - t1
    return metrics


def _require(test: pd.DataFrame | None) -> pd.DataFrame:
    if test is None:
        raise ValueError("test DataFrame required when train is a DataFrame")
    return test


ModelFactory = Callable[[], Model]


def default_models(k: int = 10) -> dict[str, ModelFactory]:
    """Rows of ``madhur-gql evaluate``: ``madhur`` is the served engine (built and queried as
    the API does, content included); the others are comparisons at the settings PROTOCOL.md's
    tuned references use."""
    from madhur_gql.recommender.baselines import ImplicitALS, PopularityModel
    from madhur_gql.recommender.collaborative import EASE, ItemKNN, RP3Beta
    from madhur_gql.recommender.served import ServedEngine

    return {
        "popularity": PopularityModel,
        "item_knn": lambda: ItemKNN(100, weighting="bm25", shrink=0, name="item_knn"),
        "rp3beta": lambda: RP3Beta(500, alpha=1.0, beta=0.3, weighting="binary", name="rp3beta"),
        "ease": lambda: EASE(2000.0, name="ease"),
        "als": ImplicitALS,
        "madhur": lambda: ServedEngine(first=k),
    }


def run_evaluation(
    train_path: str | Path,
    test_path: str | Path,
    item_features_path: str | Path | None = None,
    k: int = 10,
    models: Mapping[str, ModelFactory] | Iterable[str] | None = None,
) -> dict[str, Any]:
    """Evaluate models on a prepared train/test pair; returns ``{"models": {name: metrics}}``."""
    return _evaluate_frames(
        load_interactions(train_path), load_interactions(test_path), item_features_path, k, models
    )


def run_evaluation_on_interactions(
    path: str | Path,
    item_features_path: str | Path | None = None,
    k: int = 10,
    models: Mapping[str, ModelFactory] | Iterable[str] | None = None,
) -> dict[str, Any]:
    """Split one interactions file with :func:`split_protocol`, then evaluate."""
    train, test = split_protocol(load_interactions(path))
    return _evaluate_frames(train, test, item_features_path, k, models)


def _resolve_models(
    models: Mapping[str, ModelFactory] | Iterable[str] | None, k: int
) -> dict[str, ModelFactory]:
    available = default_models(k)
    if models is None:
        return available
    if isinstance(models, Mapping):
        return dict(models)
    chosen: dict[str, ModelFactory] = {}
    for name in models:
        if name not in available:
            raise KeyError(f"unknown model {name!r}; choose from {sorted(available)}")
        chosen[name] = available[name]
    return chosen


def _evaluate_frames(
    train: pd.DataFrame,
    test: pd.DataFrame,
    item_features_path: str | Path | None,
    k: int,
    models: Mapping[str, ModelFactory] | Iterable[str] | None,
) -> dict[str, Any]:
    data = index_split(train, test)
    features = align_features(item_features_path, data.item_ids) if item_features_path else None
    report: dict[str, Any] = {
        "k": k,
        "n_users": int(data.train.shape[0]),
        "n_items": int(data.train.shape[1]),
        "n_test_users": int((np.diff(data.test.indptr) > 0).sum()),
        "models": {},
    }
    for name, factory in _resolve_models(models, k).items():
        report["models"][name] = evaluate_model(factory(), data, k=k, features=features)
    return report


METRIC_ORDER = ("precision", "recall", "ndcg", "hit_rate", "coverage")


def table_rows(report: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and string rows (for rich.Table or markdown) from a report."""
    k = report.get("k", 10)
    header = ["model", *[f"{m}@{k}" for m in METRIC_ORDER], "fit s"]
    rows: list[list[str]] = []
    for name, metrics in report["models"].items():
        cells = [f"{metrics[f'{m}@{k}']:.3f}" for m in METRIC_ORDER]
        rows.append([name, *cells, f"{metrics.get('fit_seconds', 0.0):.1f}"])
    return header, rows


def format_table(report: Mapping[str, Any]) -> str:
    """Markdown table of a report, one row per model."""
    header, rows = table_rows(report)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def metric_names(k: int) -> Sequence[str]:
    """Metric keys produced for a given k."""
    return [f"{m}@{k}" for m in METRIC_ORDER]
