"""`madhur-gql evaluate`'s `madhur` row is the engine the API serves, not a look-alike."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from madhur_gql import app as app_module
from madhur_gql.recommender import served
from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.evaluation import (
    align_features,
    default_models,
    evaluate_model,
    index_split,
    split_protocol,
)
from madhur_gql.services.recommendations import builder


def _clustered(users: int = 80, items: int = 120, seed: int = 5) -> pd.DataFrame:
    """Four taste groups, each mostly playing its own quarter of the items."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        own = np.arange((u % 4) * items // 4, (u % 4 + 1) * items // 4)
        picks = set(rng.choice(own, 10, replace=False)) | set(rng.choice(items, 2, replace=False))
        rows += [(str(u), str(i), float(rng.integers(1, 40))) for i in sorted(picks)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "weight"])


def test_the_service_builds_with_the_evaluated_function_and_config() -> None:
    # the API's build process runs EngineBuilder's default build, which is build_served with
    # no config of its own that evaluation would not see; the app does not pass another one
    # (only the standing rules, which weigh listeners and leave evaluation's data untouched)
    default = inspect.signature(builder.EngineBuilder.__init__).parameters["build"].default
    assert default is served.build_served
    assert "EngineBuilder(SnapshotSource(database.uri, settings.database_name, rules))" in (
        inspect.getsource(app_module)
    )
    assert "RecommenderEngine.build" not in inspect.getsource(builder)


def test_the_madhur_row_ranks_with_the_engines_own_recommend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train, test = split_protocol(_clustered())
    data = index_split(train, test)
    configs: list[EngineConfig | None] = []
    lists: dict[str, list[str]] = {}
    build, recommend = served.build_served, RecommenderEngine.recommend

    def spy_build(*args: object, **kwargs: object) -> RecommenderEngine:
        configs.append(args[2] if len(args) > 2 else None)  # type: ignore[arg-type]
        return build(*args, **kwargs)  # type: ignore[arg-type]

    def spy_recommend(self: RecommenderEngine, user_id: str | None, *a: object, **kw: object):  # type: ignore[no-untyped-def]
        picks = recommend(self, user_id, *a, **kw)  # type: ignore[arg-type]
        lists[str(user_id)] = [p.item_id for p in picks]
        return picks

    monkeypatch.setattr(served, "build_served", spy_build)
    monkeypatch.setattr(RecommenderEngine, "recommend", spy_recommend)
    model = default_models(5)["madhur"]()
    metrics = evaluate_model(model, data, k=5)
    assert configs == [None]  # the default EngineConfig(), as served
    test_users = np.flatnonzero(np.diff(data.test.indptr) > 0)
    assert len(lists) == test_users.size
    # the figure counts exactly the engine's picks: recompute hits from its lists
    hits = 0
    for u in test_users.tolist():
        relevant = set(data.test.indices[data.test.indptr[u] : data.test.indptr[u + 1]].tolist())
        hits += sum(int(i) in relevant for i in lists[str(u)])
    assert metrics["precision@5"] == pytest.approx(hits / (5 * test_users.size))


def test_item_features_reach_the_engine_and_score_unplayed_items(tmp_path: Path) -> None:
    """With --item-features, items nobody played in train get a content score in the blend;
    without, they score nothing."""
    rows = _clustered()
    rows = pd.concat([rows, pd.DataFrame([("999", "new-song", 1.0)], columns=rows.columns)])
    train, test = split_protocol(rows)
    data = index_split(train, test)
    # each taste group's items sound alike; the new song sounds like group 0's
    rng = np.random.default_rng(0)
    centres = rng.random((4, 4))
    group = [0 if i == "new-song" else int(i) * 4 // 120 for i in data.item_ids]
    values = centres[group] + rng.normal(0, 0.03, (len(group), 4))
    names = ("danceability", "energy", "valence", "acousticness")
    features = pd.DataFrame(values, columns=list(names))
    features.insert(0, "item_id", data.item_ids)
    path = tmp_path / "features.csv"
    features.to_csv(path, index=False)
    new_row = int(np.flatnonzero(data.item_ids == "new-song")[0])
    user = "0"  # taste group 0
    assert data.train[:, new_row].nnz == 1  # only the lone listener "999" has it
    scored = {}
    for name, feats in (("with", align_features(path, data.item_ids)), ("without", None)):
        model = served.ServedEngine(first=10)
        model.fit(data.train, feats)
        assert model.engine is not None
        cand, base = model.engine.score_candidates(user)
        scored[name] = float(base[cand == new_row][0])
    assert scored["with"] > 0.0
    assert scored["without"] < scored["with"]
