"""The served engine as an evaluation model: ``madhur-gql evaluate``'s ``madhur`` row.

It builds :class:`RecommenderEngine` exactly as the API's service does (``build(items, events)``
with the default :class:`EngineConfig`, unless a config is passed for tuning) and ranks with
``engine.recommend`` - the same call the ``recommendations`` resolver makes - so the figure a
user reads is the engine they get. Train weights become aggregated ``play`` events at one
instant; item features (``--item-features``) become the songs' audio features, so the content
side ranks items nobody played in train. The request asks for exactly ``k`` picks in relevance
order: ``diversity`` 0 (the API's re-rank knob, a client's choice) and no per-artist cap
(evaluation items are artists themselves).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp

from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.features import FEATURE_NAMES
from madhur_gql.recommender.model_api import ItemFeatures
from madhur_gql.recommender.values import CatalogItems, Event, RecommendationRequest

EVALUATION_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def build_served(
    items: CatalogItems,
    events: Iterable[Event],
    config: EngineConfig | None = None,
    listener_weights: Mapping[str, float] | None = None,
) -> RecommenderEngine:
    """The one build the API serves (the service calls this) and evaluation scores: a pure
    function of (items, events), so it may run in a worker thread or another process.
    `listener_weights` (each listener's standing, from the build's snapshot) weigh them in
    the shared item graphs; evaluation leaves them out (every listener counts fully)."""
    return RecommenderEngine.build(
        items, events, config=config or EngineConfig(), listener_weights=listener_weights
    )


def catalog_features(features: ItemFeatures | None, n_items: int) -> np.ndarray:
    """(n, len(FEATURE_NAMES)) raw features in the engine's order; NaN where unknown."""
    out = np.full((n_items, len(FEATURE_NAMES)), np.nan, dtype=np.float32)
    if features is None:
        return out
    col = {name: j for j, name in enumerate(features.names)}
    for i, name in enumerate(FEATURE_NAMES):
        if name in col:
            out[:, i] = features.values[:, col[name]]
    out[~features.present] = np.nan
    return out


def engine_inputs(
    interactions: sp.csr_matrix, features: ItemFeatures | None
) -> tuple[CatalogItems, list[Event]]:
    """Catalog rows ``"0".."n-1"`` and one aggregated play event per train interaction."""
    n_items = interactions.shape[1]
    items = CatalogItems(
        ids=[str(i) for i in range(n_items)],
        features=catalog_features(features, n_items),
        artists=[str(i) for i in range(n_items)],
        genres=[() for _ in range(n_items)],
        popularity=np.zeros(n_items, dtype=np.float32),
    )
    coo = interactions.tocoo()
    events = [
        Event(str(u), str(i), "play", EVALUATION_TIME, float(w))
        for u, i, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    ]
    return items, events


class ServedEngine:
    """``fit`` = the service's build; ``score_users`` = the resolver's ``recommend`` call."""

    def __init__(
        self, first: int = 10, config: EngineConfig | None = None, name: str = "madhur"
    ) -> None:
        self.first, self.config, self.name = first, config, name
        self.engine: RecommenderEngine | None = None

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        """Build the engine from the train plays (and the item features, when given)."""
        items, events = engine_inputs(interactions, features)
        self.engine = build_served(items, events, self.config)

    def request(self) -> RecommendationRequest:
        """What each test user is asked for (the API's request type)."""
        return RecommendationRequest(first=self.first, diversity=0.0, max_per_artist=0)

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        raise NotImplementedError("the engine ranks by user id: use score_users")

    def score_users(self, user_idx: np.ndarray, user_rows: sp.csr_matrix) -> np.ndarray:
        """The engine's picks per user, as scores that keep its order (others -inf)."""
        assert self.engine is not None, "fit first"
        out = np.full(user_rows.shape, -np.inf, dtype=np.float64)
        request = self.request()
        for row, u in enumerate(user_idx.tolist()):
            picks = self.engine.recommend(str(u), request, now=EVALUATION_TIME)
            for rank, pick in enumerate(picks):
                out[row, int(pick.item_id)] = float(len(picks) - rank)
        return out
