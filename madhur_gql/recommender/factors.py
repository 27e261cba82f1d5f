"""The factor model: implicit ALS on the CF evidence, folded in per taste at request time.

Learnt once per build on the same rows as the item graphs (playlists, users' log1p strengths,
bulk histories), bm25-weighted as ``implicit`` recommends. It is the most accurate single
signal on the Last.fm dev split (BENCHMARKS.md); the graphs add reach and explanations.

A taste is turned into a user vector with the exact ALS user step against the learnt item
factors (``(Y'Y + reg I + Y_h' (C - 1) Y_h) u = Y_h' c``), so a listener whose history changed
since the build, or a "more like these" seed list, is scored like a trained row. The build keeps
each profiled listener's trained vector; the engine drops it when a new event arrives.
All arrays: the state pickles (a build may run in another process).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from madhur_gql.recommender.config import EngineConfig

WIDEN_BLOCK = 65_536  # float16 factor rows widened per product (a few MiB, not the whole table)


@dataclass(slots=True)
class FactorModel:
    """Item factors plus what the fold-in needs (bm25 statistics, regularised Gram matrix)."""

    # (n, f) float32; zero rows for items unseen at build; float16 above ``dense_limit``
    # items, where a request scores a shortlist's rows only (converted as they are read)
    item_factors: np.ndarray
    gram: np.ndarray  # (f, f) float64: Y'Y + reg I
    idf: np.ndarray  # (n,) float32 bm25 idf of each item over the build rows
    avg_length: float  # mean row mass (sum of log1p strengths) at build
    k1: float
    b: float
    users: dict[str, np.ndarray] = field(default_factory=dict)  # trained vectors by user id

    @property
    def factors(self) -> int:
        return int(self.item_factors.shape[1])

    @classmethod
    def learn(
        cls, x: sp.csr_matrix, user_rows: dict[str, int], config: EngineConfig
    ) -> FactorModel | None:
        """Fit ALS on ``x`` (rows x items, log1p strengths); None with fewer than
        ``factor_min_users`` listener histories (the graphs serve alone then).

        Above ``dense_limit`` items the rank and iterations drop (``large_factors``,
        ``large_factor_iterations``) so a million-song build stays minutes, not hours.
        """
        from implicit.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        n = x.shape[1]
        if len(user_rows) < config.factor_min_users or n < 2 or config.factors <= 0:
            return None  # a model of playlists alone extrapolates badly to listeners
        large = n > config.dense_limit
        factors = config.large_factors if large else config.factors
        iterations = config.large_factor_iterations if large else config.factor_iterations
        weighted, idf, avg = bm25(x, config.bm25_k1, config.bm25_b)
        # scale-free penalty: the same ratio to an item's typical confidence mass whatever the
        # number of listeners (100 on the Last.fm dev half's training side)
        mass = np.asarray(weighted.sum(axis=0)).ravel()
        seen = mass[np.diff(weighted.tocsc().indptr) > 0]
        reg = config.factor_reg_ratio * float(seen.mean()) if seen.size else 1.0
        with threadpool_limits(1, "blas"):  # implicit's own threads; BLAS threads fight them
            model = AlternatingLeastSquares(
                factors=factors,
                regularization=reg,
                iterations=iterations,
                random_state=config.factor_seed,
                num_threads=config.build_threads,
            )
            model.fit(weighted, show_progress=False)
        items = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        if large:
            items = items.astype(np.float16)  # 61 MiB a million songs at rank 32, not 122
        gram = items.T.astype(np.float64) @ items.astype(np.float64)
        gram[np.diag_indices_from(gram)] += reg
        trained = np.asarray(model.user_factors, dtype=np.float32)
        users = {u: trained[row].copy() for u, row in user_rows.items()}
        return cls(items, gram, idf, avg, config.bm25_k1, config.bm25_b, users)

    def fold_in(self, idx: np.ndarray, w: np.ndarray) -> np.ndarray | None:
        """User vector for a taste; None without a positive item the model knows.

        Positive weights are preferences with bm25 confidence; negative ones (dislikes,
        skips) are confident zeros, as ``implicit`` reads negative entries, so a dislike
        pulls the vector away from the song and the songs like it.
        """
        known = (w != 0) & (idx < self.item_factors.shape[0])
        if not (known & (w > 0)).any():
            return None
        rows, tf = idx[known], np.abs(w[known].astype(np.float64))
        liked = w[known] > 0
        norm = (1.0 - self.b) + self.b * float(tf.sum()) / max(self.avg_length, 1e-9)
        conf = tf * (self.k1 + 1.0) / (self.k1 * norm + tf) * self.idf[rows]
        y = self.item_factors[rows].astype(np.float64)
        a = self.gram + y.T @ ((conf - 1.0)[:, None] * y)
        rhs = y[liked].T @ conf[liked]
        try:
            u = scipy.linalg.solve(a, rhs, assume_a="pos", check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            u = scipy.linalg.lstsq(a, rhs, check_finite=False)[0]
        return u.astype(np.float32)

    def scores(self, user: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Dot products with every item (or only ``rows``), float32."""
        y = self.item_factors if rows is None else self.item_factors[rows]
        if y.dtype == np.float32:
            return np.asarray(y @ user, dtype=np.float32)
        out = np.empty(y.shape[0], dtype=np.float32)  # float16: widened a block at a time
        for start in range(0, y.shape[0], WIDEN_BLOCK):
            block = y[start : start + WIDEN_BLOCK].astype(np.float32)
            out[start : start + block.shape[0]] = block @ user
        return out

    def grow(self, n: int) -> None:
        """Zero rows for songs added since the build (they rank through content until then)."""
        extra = n - self.item_factors.shape[0]
        if extra > 0:
            pad = np.zeros((extra, self.factors), dtype=self.item_factors.dtype)
            self.item_factors = np.vstack([self.item_factors, pad])
            self.idf = np.concatenate([self.idf, np.zeros(extra, dtype=np.float32)])

    def nbytes(self) -> int:
        vectors = sum(v.nbytes for v in self.users.values())
        return int(self.item_factors.nbytes + self.gram.nbytes + self.idf.nbytes + vectors)


def bm25(x: sp.csr_matrix, k1: float, b: float) -> tuple[sp.csr_matrix, np.ndarray, float]:
    """implicit's bm25_weight (rows as documents, items as terms), plus its idf and the mean
    row mass, which the fold-in needs to weight a single taste the same way."""
    from implicit.nearest_neighbours import bm25_weight

    x = x.tocsr()
    df = np.bincount(x.indices, minlength=x.shape[1]).astype(np.float64)
    idf = (np.log(float(x.shape[0])) - np.log1p(df)).astype(np.float32)
    avg = float(np.asarray(x.sum(axis=1)).mean())
    weighted = bm25_weight(x, K1=k1, B=b).tocsr().astype(np.float32)
    return weighted, idf, avg
