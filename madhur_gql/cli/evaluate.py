"""`evaluate`: score the recommender offline on held-out interactions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from madhur_gql.cli.output import console


def evaluate(
    train: Annotated[Path | None, typer.Option(help="TSV: user_id item_id weight.")] = None,
    test: Annotated[Path | None, typer.Option(help="TSV in the same layout.")] = None,
    interactions: Annotated[
        Path | None,
        typer.Option(help="One TSV, split with the protocol (instead of --train/--test)."),
    ] = None,
    item_features: Annotated[
        Path | None, typer.Option(help="CSV: item_id plus numeric feature columns.")
    ] = None,
    k: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    model: Annotated[
        list[str] | None, typer.Option(help="Models to score (repeatable); default: all.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Score the served recommender (row `madhur`) against baselines on held-out interactions.

    Full-catalog ranking of every item a test user has not met in train; precision, recall,
    ndcg, hit rate and coverage at k, as in the evaluation protocol. `madhur` is the engine the
    API serves, built and queried the same way, with audio features from --item-features;
    popularity, item_knn, rp3beta, ease and als are comparisons.
    """
    from madhur_gql.recommender.blas import single_threaded_blas
    from madhur_gql.recommender.evaluation import (
        run_evaluation,
        run_evaluation_on_interactions,
        table_rows,
    )

    single_threaded_blas()  # as the API serves: see recommender/blas.py
    if interactions is not None and (train or test):
        raise typer.BadParameter("give --interactions, or --train and --test, not both")
    try:
        if interactions is not None:
            report = run_evaluation_on_interactions(interactions, item_features, k, model)
        elif train is not None and test is not None:
            report = run_evaluation(train, test, item_features, k, model)
        else:
            raise typer.BadParameter("give --train and --test, or --interactions")
    except (OSError, KeyError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    if as_json:
        sys.stdout.write(json.dumps({"models": report["models"]}) + "\n")
        return
    header, rows = table_rows(report)
    table = Table(
        title=f"{report['n_test_users']} test users, {report['n_items']} items, top {report['k']}"
    )
    for column in header:
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=max(Console().width, 110)).print(table)  # headers intact in logs and pipes
