"""`madhur-gql evaluate`: the protocol's metrics for Madhur and a popularity baseline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

CLI = str(Path(sys.executable).parent / "madhur-gql")


def write_clustered_interactions(path: Path, users: int = 120, items: int = 200) -> None:
    """Listeners in four taste groups, each playing mostly its own quarter of the items."""
    rng = np.random.default_rng(3)
    lines = ["user_id\titem_id\tweight"]
    for user in range(users):
        group = user % 4
        own = np.arange(group * items // 4, (group + 1) * items // 4)
        picks = set(rng.choice(own, 12, replace=False)) | set(rng.choice(items, 2, replace=False))
        lines += [f"{user}\t{item}\t{int(rng.integers(1, 50))}" for item in sorted(picks)]
    path.write_text("\n".join(lines) + "\n")


def test_evaluate_json_scores_madhur_above_popularity(tmp_path: Path) -> None:
    data = tmp_path / "plays.tsv"
    write_clustered_interactions(data)
    result = subprocess.run(
        [
            CLI,
            "evaluate",
            "--interactions",
            str(data),
            "--model",
            "popularity",
            "--model",
            "madhur",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    models = json.loads(result.stdout)["models"]
    assert set(models) == {"popularity", "madhur"}
    for metrics in models.values():
        for name in ("precision@10", "recall@10", "ndcg@10", "hit_rate@10", "coverage@10"):
            assert 0.0 <= metrics[name] <= 1.0
    assert models["madhur"]["ndcg@10"] > 2 * models["popularity"]["ndcg@10"]
    assert models["madhur"]["coverage@10"] > models["popularity"]["coverage@10"]


def test_evaluate_with_train_and_test_files_prints_a_table(tmp_path: Path) -> None:
    data = tmp_path / "plays.tsv"
    write_clustered_interactions(data)
    rows = data.read_text().splitlines()
    (tmp_path / "train.tsv").write_text("\n".join(rows[:-150]) + "\n")
    (tmp_path / "test.tsv").write_text("\n".join([rows[0], *rows[-150:]]) + "\n")
    result = subprocess.run(
        [
            CLI,
            "evaluate",
            "--train",
            str(tmp_path / "train.tsv"),
            "--test",
            str(tmp_path / "test.tsv"),
            "--model",
            "popularity",
            "--k",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ndcg@5" in result.stdout and "popularity" in result.stdout


def test_evaluate_refuses_unknown_models_and_missing_files(tmp_path: Path) -> None:
    missing = subprocess.run(
        [CLI, "evaluate", "--interactions", str(tmp_path / "nope.tsv")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 2
    data = tmp_path / "plays.tsv"
    write_clustered_interactions(data, users=20)
    unknown = subprocess.run(
        [CLI, "evaluate", "--interactions", str(data), "--model", "magic"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert unknown.returncode == 2 and "unknown model" in unknown.stderr
