"""Trending scores: plays decay with a two-day half-life, with no periodic decay pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from madhur_gql.services.catalog.trending import HALF_LIFE, TrendingScores

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_play_halves_each_half_life() -> None:
    scores = TrendingScores(origin=T0)
    scores.add_play("a", T0)
    assert scores.score("a", now=T0) == pytest.approx(1.0)
    assert scores.score("a", now=T0 + HALF_LIFE) == pytest.approx(0.5)
    assert scores.score("a", now=T0 + 2 * HALF_LIFE) == pytest.approx(0.25)
    assert scores.score("unknown", now=T0) == 0.0


def test_recent_plays_outrank_more_older_ones() -> None:
    scores = TrendingScores(origin=T0)
    for _ in range(3):
        scores.add_play("old", T0)
    for _ in range(2):
        scores.add_play("new", T0 + 3 * HALF_LIFE)
    raw = scores.raw_scores()
    assert raw["new"] > raw["old"]  # 2 fresh plays beat 3 plays three half-lives old


def test_the_origin_moves_forward_without_changing_scores() -> None:
    scores = TrendingScores(origin=T0)
    scores.add_play("a", T0)
    later = T0 + timedelta(days=2000)  # far past the rebase point: no float overflow
    scores.add_play("b", later)
    assert scores.score("b", now=later) == pytest.approx(1.0)
    assert scores.score("a", now=later) == pytest.approx(0.0, abs=1e-12)
    assert all(value < 1e300 for value in scores.raw_scores().values())


def test_naive_times_are_utc_and_removed_songs_score_nothing() -> None:
    scores = TrendingScores(origin=T0)
    scores.add_play("a", T0.replace(tzinfo=None))
    assert scores.score("a", now=T0) == pytest.approx(1.0)
    scores.remove("a")
    assert scores.score("a", now=T0) == 0.0
