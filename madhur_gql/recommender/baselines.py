"""Non-personalised baselines used as floors in evaluation."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from madhur_gql.recommender.model_api import ItemFeatures


class PopularityModel:
    """Rank items by the number of distinct train users (PROTOCOL.md's popularity row)."""

    name = "popularity"

    def __init__(self) -> None:
        self._counts = np.zeros(0, dtype=np.float64)

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        """Count users per item; ties are broken by the lower item index."""
        counts = np.diff(interactions.tocsc().indptr).astype(np.float64)
        n = counts.size
        # Tiny decreasing offset makes the ranking deterministic without reordering counts.
        self._counts = counts + (n - np.arange(n)) / (n + 1.0) * 1e-3

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        """Same popularity vector for every user."""
        return np.broadcast_to(self._counts, (user_rows.shape[0], self._counts.size)).copy()


class ImplicitALS:
    """implicit's ALS on bm25-weighted log1p(weight): PROTOCOL.md's tuned reference row
    (256 factors, regularization 80, 30 iterations, K1=100, B=0.8)."""

    def __init__(
        self,
        factors: int = 256,
        regularization: float = 80.0,
        iterations: int = 30,
        *,
        k1: float = 100.0,
        b: float = 0.8,
        seed: int = 42,
        name: str = "als",
    ) -> None:
        self.factors, self.regularization, self.iterations = factors, regularization, iterations
        self.k1, self.b, self.seed, self.name = k1, b, seed, name
        self.user_factors = np.zeros((0, 0), dtype=np.float32)
        self.item_factors = np.zeros((0, 0), dtype=np.float32)

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        """Fit on the train matrix (features are not used)."""
        from implicit.als import AlternatingLeastSquares
        from implicit.nearest_neighbours import bm25_weight
        from threadpoolctl import threadpool_limits

        x = interactions.astype(np.float32)
        x.data = np.log1p(x.data)
        weighted = bm25_weight(x, K1=self.k1, B=self.b).tocsr().astype(np.float32)
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=2,
            )
            model.fit(weighted, show_progress=False)
        self.user_factors = np.asarray(model.user_factors)
        self.item_factors = np.asarray(model.item_factors)

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        raise NotImplementedError("ALS scores need user indices: use score_users")

    def score_users(self, user_idx: np.ndarray, user_rows: sp.csr_matrix) -> np.ndarray:
        """Trained user factors against every item."""
        return np.asarray(self.user_factors[user_idx] @ self.item_factors.T)
