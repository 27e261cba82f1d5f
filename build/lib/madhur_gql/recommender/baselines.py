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
