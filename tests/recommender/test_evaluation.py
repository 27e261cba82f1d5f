"""Protocol split and metrics on tiny hand-computed examples."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from madhur_gql.recommender.baselines import PopularityModel
from madhur_gql.recommender.evaluation import (
    ItemFeatures,
    evaluate_model,
    format_table,
    index_split,
    load_interactions,
    run_evaluation,
    run_evaluation_on_interactions,
    split_protocol,
)


class FixedScores:
    """Scores every user with one fixed per-item vector (given by item id)."""

    name = "fixed"

    def __init__(self, by_item: dict[str, float], item_ids: np.ndarray) -> None:
        self.vector = np.array([by_item.get(str(i), 0.0) for i in item_ids], dtype=np.float32)

    def fit(self, interactions: sp.csr_matrix, features: ItemFeatures | None = None) -> None:
        pass

    def score(self, user_rows: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.vector, (user_rows.shape[0], 1))


def _frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "item_id", "weight"])


def test_metrics_on_hand_computed_example() -> None:
    train = _frame([("u1", "a", 1), ("u1", "b", 1), ("u2", "c", 1), ("u2", "f", 1), ("u3", "e", 1)])
    test = _frame([("u1", "c", 1), ("u1", "d", 1), ("u2", "a", 1)])
    data = index_split(train, test)
    model = FixedScores({"e": 0.9, "c": 0.8, "f": 0.7, "a": 0.6, "d": 0.1}, data.item_ids)
    m = evaluate_model(model, data, k=3)
    # u1 ranks (a, b excluded): e, c, f -> one hit at rank 1 of 2 relevant
    # u2 ranks (c, f excluded): e, a, d -> one hit at rank 1 of 1 relevant
    ndcg_u1 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    ndcg_u2 = (1 / math.log2(3)) / 1.0
    assert m["precision@3"] == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert m["recall@3"] == pytest.approx((1 / 2 + 1 / 1) / 2)
    assert m["ndcg@3"] == pytest.approx((ndcg_u1 + ndcg_u2) / 2)
    assert m["hit_rate@3"] == pytest.approx(1.0)
    # distinct recommended: e, c, f, a, d = 5 of 6 catalog items (a..f)
    assert m["coverage@3"] == pytest.approx(5 / 6)


def test_split_follows_protocol() -> None:
    rows = []
    sizes = {"10": 10, "9": 7, "3": 4, "100": 13, "42": 5}
    for user, n in sizes.items():
        rows += [(user, f"i{user}-{j}", float(j + 1)) for j in range(n)]
    df = _frame(rows)
    train, test = split_protocol(df)
    assert len(train) + len(test) == len(df)
    assert "3" not in set(test.user_id)  # fewer than 5 items: wholly in train
    per_user = test.groupby("user_id").size().to_dict()
    assert per_user == {"10": 2, "9": 1, "100": 3, "42": 1}
    # one generator, users in ascending numeric order, shuffling the file-order items
    rng = np.random.default_rng(42)
    expected: set[tuple[str, str]] = set()
    for user in ("9", "10", "42", "100"):
        items = df[df.user_id == user].item_id.to_numpy()
        perm = items[rng.permutation(items.size)]
        expected |= {(user, i) for i in perm[: max(1, round(0.2 * items.size))]}
    assert set(zip(test.user_id, test.item_id, strict=True)) == expected
    again_train, again_test = split_protocol(df)
    assert again_test.equals(test) and again_train.equals(train)


def test_popularity_baseline_ranks_by_users_per_item() -> None:
    train = _frame(
        [
            ("u1", "x", 50),
            ("u2", "x", 1),
            ("u3", "x", 1),
            ("u1", "y", 1),
            ("u2", "y", 9),
            ("u3", "z", 1000),
            ("u4", "w", 1),
        ]
    )
    test = _frame([("u4", "x", 1), ("u4", "y", 1)])
    data = index_split(train, test)
    model = PopularityModel()
    model.fit(data.train)
    order = np.argsort(-model.score(data.train[:1])[0])
    assert [data.item_ids[i] for i in order[:2]] == ["x", "y"]
    m = evaluate_model(PopularityModel(), data, k=2)
    assert m["precision@2"] == pytest.approx(1.0)
    assert m["ndcg@2"] == pytest.approx(1.0)


def test_run_evaluation_files_and_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rows = [
        (str(u), str(i), float(rng.integers(1, 50)))
        for u in range(30)
        for i in rng.choice(40, 8, replace=False)
    ]
    path = tmp_path / "inter.tsv"
    _frame(rows).to_csv(path, sep="\t", index=False)
    df = load_interactions(path)
    assert list(df.columns) == ["user_id", "item_id", "weight"]
    report = run_evaluation_on_interactions(path, k=5, models=["popularity", "madhur"])
    assert set(report["models"]) == {"popularity", "madhur"}
    for metrics in report["models"].values():
        assert 0.0 <= metrics["ndcg@5"] <= 1.0
    train, test = split_protocol(df)
    train.to_csv(tmp_path / "train.tsv", sep="\t", index=False)
    test.to_csv(tmp_path / "test.tsv", sep="\t", index=False)
    report2 = run_evaluation(
        tmp_path / "train.tsv", tmp_path / "test.tsv", k=5, models=["popularity"]
    )
    assert report2["models"]["popularity"]["ndcg@5"] == pytest.approx(
        report["models"]["popularity"]["ndcg@5"]
    )
    table = format_table(report)
    assert "| popularity |" in table and "ndcg@5" in table
