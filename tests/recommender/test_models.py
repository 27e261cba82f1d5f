"""Collaborative, content and mood building blocks on tiny synthetic inputs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from madhur_gql.recommender import mood as mood_module
from madhur_gql.recommender.collaborative import EASE, ItemKNN, RP3Beta
from madhur_gql.recommender.content import ContentIndex
from madhur_gql.recommender.features import FEATURE_NAMES, unit_scale
from madhur_gql.recommender.model_api import Model
from madhur_gql.recommender.mood import Mood, describe, mood_scores
from madhur_gql.recommender.sparse_ops import bm25_weight, row_topk


def _two_communities(n_users: int = 40) -> sp.csr_matrix:
    """Users 0..19 play items 0-4, users 20..39 play items 5-9; item 0 is everyone's hit."""
    rng = np.random.default_rng(0)
    rows, cols = [], []
    for u in range(n_users):
        block = range(0, 5) if u < n_users // 2 else range(5, 10)
        for i in block:
            if rng.random() < 0.7:
                rows.append(u)
                cols.append(i)
        rows.append(u)
        cols.append(0)
    data = rng.integers(1, 20, len(rows)).astype(np.float64)
    m = sp.csr_matrix((data, (rows, cols)), shape=(n_users, 10))
    m.sum_duplicates()
    return m


@pytest.mark.parametrize(
    "factory",
    [
        lambda: ItemKNN(5, weighting="log1p"),
        lambda: ItemKNN(5, weighting="bm25", alpha=0.7, shrink=2.0),
        lambda: RP3Beta(5, alpha=0.8, beta=0.25),
        lambda: EASE(5.0, min_users=1),
        lambda: EASE(5.0, min_users=1, keep=3),
    ],
)
def test_models_recommend_within_the_community(factory: object) -> None:
    x = _two_communities()
    assert callable(factory)
    model: Model = factory()
    model.fit(x)
    user = sp.csr_matrix(([1.0, 3.0, 2.0], ([0, 0, 0], [0, 6, 7])), shape=(1, 10))
    scores = model.score(user)[0].astype(np.float64)
    scores[[0, 6, 7]] = -np.inf
    best = int(np.argmax(scores))
    assert best in (5, 8, 9), f"{model.name} ranked item {best} first"


def test_row_topk_keeps_largest_and_drops_self() -> None:
    m = sp.csr_matrix(np.array([[5.0, 1.0, 3.0, 2.0], [0.0, 9.0, 4.0, 4.0]]))
    top = row_topk(m, 2, drop_diagonal_offset=0).toarray()
    assert top[0].tolist() == [0.0, 0.0, 3.0, 2.0]
    assert top[1].tolist() == [0.0, 0.0, 4.0, 4.0]


def test_bm25_downweights_items_everyone_has() -> None:
    x = _two_communities()
    w = bm25_weight(x)
    common = w[:, 0].toarray().ravel()
    rare = w[:, 7].toarray().ravel()
    # item 0 is in every history: its idf (and so its weight) is clipped to 0
    assert common.max() < rare[rare > 0].min()


def test_content_vectors_are_unit_and_profile_scores_are_cosines() -> None:
    rng = np.random.default_rng(1)
    raw = rng.random((50, len(FEATURE_NAMES))).astype(np.float32)
    raw[:, FEATURE_NAMES.index("tempo")] *= 200
    index = ContentIndex.build(raw)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)
    scores = index.score_profile(index.vectors[3])
    assert int(np.argmax(scores)) == 3
    assert np.allclose(scores, index.vectors @ index.vectors[3], atol=1e-5)


def test_content_profile_prefers_similar_items() -> None:
    raw = np.array(
        [[0.9, 0.9, 0.9, 130, 0.1, 0.0, 0.05, 0.1, -4]] * 3
        + [[0.1, 0.1, 0.1, 70, 0.9, 0.9, 0.05, 0.1, -20]] * 3,
        dtype=np.float32,
    )
    raw += np.random.default_rng(2).normal(0, 0.01, raw.shape).astype(np.float32)
    index = ContentIndex.build(raw)
    s = index.score_profile(index.profile(np.array([0]), np.array([1.0])))
    assert s[1:3].min() > s[3:].max()


def test_mood_scores_order_and_range() -> None:
    calm = np.zeros((1, len(FEATURE_NAMES)), dtype=np.float32)
    loud = np.zeros((1, len(FEATURE_NAMES)), dtype=np.float32)
    calm[0, FEATURE_NAMES.index("energy")] = 0.1
    calm[0, FEATURE_NAMES.index("acousticness")] = 0.8
    calm[0, FEATURE_NAMES.index("tempo")] = 80
    calm[0, FEATURE_NAMES.index("loudness")] = -18
    loud[0, FEATURE_NAMES.index("energy")] = 0.95
    loud[0, FEATURE_NAMES.index("tempo")] = 160
    loud[0, FEATURE_NAMES.index("loudness")] = -3
    feats = unit_scale(np.vstack([calm, loud]))
    for m in Mood:
        s = mood_scores(feats, m)
        assert s.dtype == np.float32 and ((s >= 0) & (s <= 1)).all()
    assert mood_scores(feats, Mood.CALM)[0] > mood_scores(feats, Mood.CALM)[1]
    assert mood_scores(feats, Mood.ENERGETIC)[1] > mood_scores(feats, Mood.ENERGETIC)[0]
    assert mood_scores(feats, energy=0.0)[0] > mood_scores(feats, energy=0.0)[1]


def test_mood_table_is_documented_and_phrased() -> None:
    assert mood_module.__doc__ is not None
    assert mood_module.markdown_table() in mood_module.__doc__
    assert describe(Mood.CALM) == "Matches your calm mood"
    assert "upbeat" in describe(valence=0.9)
