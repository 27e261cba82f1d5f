"""The small contract between offline models and the evaluation harness (numpy/scipy only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True, slots=True)
class ItemFeatures:
    """Item side information aligned to the evaluation catalog (rows = catalog indices)."""

    names: tuple[str, ...]
    values: np.ndarray  # (n_items, n_features) float32, NaN rows for items without features
    present: np.ndarray  # (n_items,) bool


class Model(Protocol):
    """What the evaluation needs from a recommender."""

    name: str

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        """Learn from a users x items matrix of raw positive weights."""

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        """Dense (batch, n_items) scores for the given users' train rows; higher is better."""
