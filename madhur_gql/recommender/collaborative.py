"""Item-based collaborative filtering models.

All models learn an items x items matrix ``W`` (row = seed item, columns = candidates) from a
users x items matrix of positive weights; a user's scores are ``user_row @ W``. They work on any
item id scheme because callers map ids to column indices first.

* :class:`ItemKNN` - asymmetric cosine with shrinkage on log1p / BM25 weights, top-k per row.
* :class:`RP3Beta` - 3-step random walk item->user->item with a popularity penalty ``pop^beta``
  (Paudel et al. 2017); the penalty is what lifts catalog coverage.
* :class:`EASE` - closed-form linear item-item model (Steck 2019) on the items with enough users
  (its inverse is dense, so the item set is capped).

The served engine learns RP3beta and a pruned EASE with the functions here; these classes are
the comparison rows of ``madhur-gql evaluate`` (the engine itself is the ``madhur`` row).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from madhur_gql.recommender.model_api import ItemFeatures
from madhur_gql.recommender.sparse_ops import blockwise_topk, bm25_weight, log1p_weight

Weighting = Literal["none", "log1p", "bm25", "binary"]


def weight_matrix(x: sp.csr_matrix, weighting: Weighting) -> sp.csr_matrix:
    """Apply a confidence weighting to raw interaction strengths."""
    x = x.tocsr()
    if weighting == "log1p":
        return log1p_weight(x)
    if weighting == "bm25":
        return bm25_weight(log1p_weight(x))
    if weighting == "binary":
        out = x.astype(np.float32, copy=True)
        out.data[:] = 1.0
        return out
    return x.astype(np.float32)


def cosine_item_knn(
    x: sp.csr_matrix, k: int = 100, *, alpha: float = 0.5, shrink: float = 0.0
) -> sp.csr_matrix:
    """Top-k asymmetric-cosine neighbours per item from a weighted users x items matrix.

    ``sim(i, j) = <x_i, x_j> / (|x_i|^(2 alpha) |x_j|^(2 (1 - alpha)) + shrink)``; alpha=0.5 is
    plain cosine, shrink damps pairs supported by few users.
    """
    xt = x.T.tocsr().astype(np.float32)
    sq = np.asarray(xt.multiply(xt).sum(axis=1)).ravel().astype(np.float64)
    left_norm = np.power(sq, alpha)
    right_norm = np.power(sq, 1.0 - alpha)

    def transform(prod: sp.csr_matrix, start: int) -> sp.csr_matrix:
        rows = np.repeat(np.arange(prod.shape[0]), np.diff(prod.indptr)) + start
        denom = left_norm[rows] * right_norm[prod.indices] + shrink
        prod.data = (prod.data / np.maximum(denom, 1e-12)).astype(np.float32)
        return prod

    return blockwise_topk(xt, x.tocsr(), k, transform=transform)


def rp3beta_similarity(
    x: sp.csr_matrix, k: int = 100, *, alpha: float = 1.0, beta: float = 0.5
) -> sp.csr_matrix:
    """RP3beta: item->user->item transition probabilities ** alpha / popularity(j) ** beta."""
    x = x.tocsr().astype(np.float32)
    user_deg = np.asarray(x.sum(axis=1)).ravel()
    item_deg = np.asarray(x.sum(axis=0)).ravel()
    p_ui = sp.diags(1.0 / np.maximum(user_deg, 1e-12)) @ x  # user -> item
    p_iu = sp.diags(1.0 / np.maximum(item_deg, 1e-12)) @ x.T.tocsr()  # item -> user
    pop = np.diff(x.tocsc().indptr).astype(np.float64)
    penalty = 1.0 / np.power(np.maximum(pop, 1.0), beta)

    def transform(prod: sp.csr_matrix, start: int) -> sp.csr_matrix:
        data = np.power(prod.data.astype(np.float64), alpha) if alpha != 1.0 else prod.data
        prod.data = (data * penalty[prod.indices]).astype(np.float32)
        return prod

    return blockwise_topk(sp.csr_matrix(p_iu), sp.csr_matrix(p_ui), k, transform=transform)


def ease_sparse(x: sp.csr_matrix, items: np.ndarray, l2: float, keep: int) -> sp.csr_matrix:
    """EASE over ``items`` pruned to the ``keep`` largest positive weights per row, as an
    n_items x n_items CSR in the full item space (so it serves like any item graph)."""
    b = ease_weights(x, items, l2)
    n, m = x.shape[1], items.size
    keep = min(keep, m - 1)
    if keep <= 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    cols = np.argpartition(-b, keep - 1, axis=1)[:, :keep]  # dense rows: no sort of all pairs
    vals = np.take_along_axis(b, cols, axis=1)
    rows = np.repeat(np.arange(m), keep)
    cols, vals = cols.ravel(), vals.ravel()
    pos = vals > 0
    return sp.csr_matrix(
        (vals[pos], (items[rows[pos]], items[cols[pos]])), shape=(n, n), dtype=np.float32
    )


def ease_weights(x: sp.csr_matrix, items: np.ndarray, l2: float) -> np.ndarray:
    """Dense EASE matrix over ``items``: B = I - P / diag(P), P = (X'X + l2 I)^-1, diag(B) = 0."""
    sub = x[:, items].astype(np.float64)
    gram = (sub.T @ sub).toarray()
    gram[np.diag_indices_from(gram)] += l2
    p = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return b.astype(np.float32)


class ItemKNN:
    """Item-kNN with a configurable weighting and asymmetric cosine."""

    def __init__(
        self,
        k: int = 100,
        *,
        weighting: Weighting = "bm25",
        alpha: float = 0.5,
        shrink: float = 10.0,
        name: str = "item_knn",
    ) -> None:
        self.k, self.weighting, self.alpha, self.shrink, self.name = (
            k,
            weighting,
            alpha,
            shrink,
            name,
        )
        self.w: sp.csr_matrix | None = None

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        """Learn neighbour lists from weighted interactions."""
        x = weight_matrix(interactions, self.weighting)
        self.w = cosine_item_knn(x, self.k, alpha=self.alpha, shrink=self.shrink)

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        """user_row @ W on the same weighting as fit."""
        assert self.w is not None, "fit first"
        u = weight_matrix(user_rows, self.weighting if self.weighting != "bm25" else "log1p")
        return np.asarray((u @ self.w).toarray(), dtype=np.float32)


class RP3Beta:
    """Random-walk item similarity with a popularity penalty."""

    def __init__(
        self,
        k: int = 100,
        *,
        alpha: float = 1.0,
        beta: float = 0.5,
        weighting: Weighting = "log1p",
        name: str = "rp3beta",
    ) -> None:
        self.k, self.alpha, self.beta, self.weighting, self.name = k, alpha, beta, weighting, name
        self.w: sp.csr_matrix | None = None

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        """Learn the penalised transition matrix."""
        x = weight_matrix(interactions, self.weighting)
        self.w = rp3beta_similarity(x, self.k, alpha=self.alpha, beta=self.beta)

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        """user_row @ W."""
        assert self.w is not None, "fit first"
        u = weight_matrix(user_rows, self.weighting)
        return np.asarray((u @ self.w).toarray(), dtype=np.float32)


class EASE:
    """EASE restricted to items with at least ``min_users`` train users."""

    def __init__(
        self,
        l2: float = 200.0,
        *,
        min_users: int = 2,
        max_items: int = 8000,
        weighting: Weighting = "log1p",
        keep: int | None = None,
        name: str = "ease",
    ) -> None:
        self.l2, self.min_users, self.max_items, self.weighting, self.name = (
            l2,
            min_users,
            max_items,
            weighting,
            name,
        )
        self.keep = keep
        self.sparse: sp.csr_matrix | None = None
        self.items = np.zeros(0, dtype=np.int64)
        self.b = np.zeros((0, 0), dtype=np.float32)
        self.n_items = 0

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        """Solve the closed form on the most-used items (capped at ``max_items``)."""
        x = weight_matrix(interactions, self.weighting)
        self.n_items = x.shape[1]
        users_per_item = np.diff(x.tocsc().indptr)
        eligible = np.flatnonzero(users_per_item >= self.min_users)
        if eligible.size > self.max_items:
            eligible = eligible[np.argsort(-users_per_item[eligible], kind="stable")]
            eligible = np.sort(eligible[: self.max_items])
        self.items = eligible
        if self.keep is None:
            self.b = ease_weights(x, eligible, self.l2)
        else:
            self.sparse = ease_sparse(x, eligible, self.l2, self.keep)

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        """Scores on the modelled items; other items get 0."""
        if self.sparse is not None:
            u_all = weight_matrix(user_rows, self.weighting)
            return np.asarray((u_all @ self.sparse).toarray(), dtype=np.float32)
        u = weight_matrix(user_rows, self.weighting)[:, self.items]
        out = np.zeros((user_rows.shape[0], self.n_items), dtype=np.float32)
        out[:, self.items] = np.asarray(u @ self.b)
        return out
