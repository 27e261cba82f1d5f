"""The engine's parts on their own: profiles, item table, graphs, scoring, re-rank, request."""

from __future__ import annotations

import dataclasses
import pickle
import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.features import FEATURE_INDEX, feature_stats
from madhur_gql.recommender.graphs import evidence_of, interaction_matrix
from madhur_gql.recommender.items import ItemTable
from madhur_gql.recommender.mood import Mood
from madhur_gql.recommender.profiles import ProfileStore, event_weight
from madhur_gql.recommender.rerank import mood_cutoff, select
from madhur_gql.recommender.scoring import CFModels, score_taste, widen
from madhur_gql.recommender.values import CatalogItems, Event, Pick, RecommendationRequest, Source
from madhur_gql.services.recommendations.onboarding import (
    MAX_FAVOURITE_GENRES,
    blend,
    onboarding_genres,
    onboarding_moods,
    onboarding_share,
)
from testsupport.synthetic import synthetic_catalog, synthetic_events

NOW = datetime(2026, 3, 1, tzinfo=UTC)
T_NOW = NOW.timestamp()
CONFIG = EngineConfig()


def _event(kind: str, item: str = "a", *, days_ago: float = 0, value: float | None = None) -> Event:
    return Event("u", item, kind, NOW - timedelta(days=days_ago), value)


# ---------------------------------------------------------------- profiles
def test_event_weights_follow_the_kind() -> None:
    assert event_weight(_event("like")) > event_weight(_event("play")) > 0
    assert event_weight(_event("skip")) < 0 < event_weight(_event("play", value=7)) == 7
    assert (
        event_weight(_event("rating", value=5)) == 2
        and event_weight(_event("rating", value=1)) == -2
    )


def test_a_like_then_unlike_leaves_no_taste_and_keeps_the_song_out() -> None:
    store = ProfileStore(CONFIG)
    store.record(_event("like", days_ago=1), 4)
    assert store.profile("u", T_NOW).has_taste
    store.record(_event("unlike"), 4)
    profile = store.profile("u", T_NOW)
    assert not profile.has_taste
    assert profile.excluded.tolist() == [4]  # liked within recent_days


def test_strength_halves_per_half_life_and_old_plays_are_not_excluded() -> None:
    store = ProfileStore(CONFIG)
    store.record(_event("play", days_ago=CONFIG.half_life_days * 2, value=8), 0)
    profile = store.profile("u", T_NOW)
    assert profile.items.tolist() == [0]
    assert profile.weights[0] == pytest.approx(np.log1p(8 * 0.25), rel=1e-5)
    assert profile.excluded.size == 0


def test_history_is_capped_to_the_strongest_items() -> None:
    store = ProfileStore(dataclasses.replace(CONFIG, history_cap=3))
    for row in range(10):
        store.record(_event("play", value=row + 1), row)
    assert sorted(store.profile("u", T_NOW).items.tolist()) == [7, 8, 9]
    assert len(store) == 1 and store.events == 10
    assert not store.profile("someone else", T_NOW).has_taste


def _same(a: ProfileStore, b: ProfileStore, users: list[str]) -> None:
    for user in users:
        left, right = a.profile(user, T_NOW), b.profile(user, T_NOW)
        assert sorted(zip(left.items.tolist(), left.weights.tolist(), strict=True)) == sorted(
            zip(right.items.tolist(), right.weights.tolist(), strict=True)
        )
        assert sorted(left.excluded.tolist()) == sorted(right.excluded.tolist())


def test_profiles_shipped_pickled_read_and_record_as_the_original() -> None:
    """A build ships the profiles to the API process as columns; tastes, exclusions, further
    events and the CF input come out as they would have without the trip."""
    store = ProfileStore(CONFIG)
    users = [f"u{n}" for n in range(6)]
    kinds = ("play", "like", "skip", "play", "dislike", "unlike")
    for n, user in enumerate(users):
        for step in range(n * 3):
            kind = kinds[(n + step) % len(kinds)]
            event = Event(user, "x", kind, NOW - timedelta(days=step), None)
            store.record(event, (n * 7 + step) % 11)
    shipped = pickle.loads(pickle.dumps(store))  # noqa: S301 - our own bytes
    assert len(shipped) == len(store) == 5 and shipped.events == store.events
    _same(store, shipped, [*users, "nobody"])
    histories = {user: sorted(items) for user, items in store.positive_histories()}
    after_trip = {user: sorted(items) for user, items in shipped.positive_histories()}
    assert after_trip.keys() == histories.keys()
    for user, items in histories.items():  # the same rows; strengths as float32 holds them
        assert [row for row, _ in after_trip[user]] == [row for row, _ in items]
        assert [s for _, s in after_trip[user]] == pytest.approx([s for _, s in items], rel=1e-6)
    for copy in (store, shipped):  # events after the trip fold into the shipped signals
        copy.record(Event("u3", "x", "like", NOW, None), 2)
        copy.record(Event("new", "x", "play", NOW, None), 9)
    _same(store, shipped, [*users, "new"])
    again = pickle.loads(pickle.dumps(shipped))  # noqa: S301 - a second trip: both kinds
    _same(store, again, [*users, "new"])
    assert len(again) == len(store) == 6
    again.forget("u4")
    assert not again.profile("u4", T_NOW).items.size and len(again) == 5


def test_an_old_event_arriving_late_counts_as_it_would_have_in_order() -> None:
    """A like from 45 days ago that reaches memory after today's play (another process's
    change stream, a backdated import) weighs what it would have, had it come first."""
    in_order, late = ProfileStore(CONFIG), ProfileStore(CONFIG)
    like = Event("u", "x", "like", NOW - timedelta(days=45), None)
    play = Event("u", "x", "play", NOW, None)
    for event in (like, play):
        in_order.record(event, 3)
    for event in (play, like):
        late.record(event, 3)
    [(_, expected)] = dict(in_order.positive_histories())["u"]
    [(_, strength)] = dict(late.positive_histories())["u"]
    assert strength == pytest.approx(expected)
    assert strength < event_weight(like) + event_weight(play)  # the old like has decayed


# -------------------------------------------------------------- item table
def _table(config: EngineConfig = CONFIG) -> tuple[ItemTable, CatalogItems]:
    catalog = synthetic_catalog(120, n_groups=10, seed=3)
    return ItemTable.build(catalog, config), catalog


def test_genre_masks_ignore_case_and_follow_edits() -> None:
    table, catalog = _table()
    rock = {i for i, g in enumerate(catalog.genres) if g == ("rock",)}
    assert rock and set(np.flatnonzero(table.genre_mask(" ROCK ")).tolist()) == rock
    first = catalog.ids[0]
    edit = dataclasses.replace(
        catalog,
        ids=[first],
        features=catalog.features[:1],
        artists=["x"],
        genres=[("Polka",)],
        popularity=catalog.popularity[:1],
    )
    assert table.upsert(edit) == 0
    assert np.flatnonzero(table.genre_mask("polka")).tolist() == [0]


def test_upsert_appends_and_remove_hides() -> None:
    table, catalog = _table()
    new = dataclasses.replace(
        catalog,
        ids=["new-1"],
        features=catalog.features[:1],
        artists=["x"],
        genres=[("rock",)],
        popularity=np.array([50.0], dtype=np.float32),
    )
    assert table.upsert(new) == 1
    assert len(table) == 121 and table.ids.row_of("new-1") == 120
    assert table.arange.size == 121 and table.content_weight.size == 121
    table.remove(["new-1", "unknown"])
    valid = table.valid_at(table.arange, np.zeros(0, dtype=np.int64), None)
    assert not valid[120] and valid[:120].all()


def test_valid_at_agrees_on_whole_catalog_and_on_a_shortlist() -> None:
    table, _ = _table()
    drop = np.array([1, 5, 9], dtype=np.int64)
    everything = table.valid_at(table.arange, drop, "jazz")
    shortlist = np.array([0, 1, 2, 5, 40, 77], dtype=np.int64)
    assert (table.valid_at(shortlist, drop, "jazz") == everything[shortlist]).all()
    assert not everything[drop].any()


# ------------------------------------------------------------ graphs, scoring
def test_interaction_matrix_skips_unknown_items_and_lonely_groups() -> None:
    index = {"a": 0, "b": 1, "c": 2}
    x = interaction_matrix([["a", "b", "zz"], ["c"], ["c", "zz"]], index, [[(2, np.e - 1)]], 3)
    assert x.shape == (2, 3)
    assert np.allclose(x.toarray(), [[1, 1, 0], [0, 0, 1]])
    assert evidence_of(x).tolist() == [1, 1, 1]


@pytest.fixture(scope="module")
def shortlist_engine() -> RecommenderEngine:
    catalog = synthetic_catalog(600, seed=0)
    events = synthetic_events(catalog, n_users=40, start=NOW - timedelta(days=60))
    config = EngineConfig(dense_limit=100, content_candidates=150, ivf_probe=4)
    return RecommenderEngine.build(catalog, events, config=config)


def test_shortlist_scores_match_the_whole_catalog_pass(shortlist_engine: RecommenderEngine) -> None:
    engine = shortlist_engine
    taste = engine.profiles.profile("user-2", T_NOW)
    assert taste.has_taste
    graphs, items = engine.graphs, engine.items
    dense = graphs.dense_parts(taste.items, taste.weights, len(items))
    cand, sparse = graphs.sparse_parts(taste.items, taste.weights)
    assert cand.size and len(dense) == len(sparse) == 2
    for full, short in zip(dense, sparse, strict=True):
        assert np.allclose(full[cand], short, atol=1e-6)
        assert not np.delete(full, cand).any()  # nothing outside the graphs' reach scores

    models = CFModels(graphs, engine.factors)
    user = engine.factors.users["user-2"] if engine.factors else None
    scored = score_taste(items, models, engine.config, taste.items, taste.weights, user=user)
    assert not scored.dense and scored.cand.size < len(items)
    wide = widen(items, models, engine.config, scored, taste.items, taste.weights, user)
    assert wide.dense and wide.cand.size == len(items)
    # the shortlist pass normalises over its candidates, the full pass over every item: the
    # order of the shortlisted items is the same
    order_short = np.argsort(-scored.base, kind="stable")[:20]
    order_wide = np.argsort(-wide.base[scored.cand], kind="stable")[:20]
    assert np.array_equal(order_short, order_wide)


# ---------------------------------------------------------------- re-rank
def test_select_orders_by_score_and_caps_artists() -> None:
    table, _ = _table()
    cand = table.arange
    score = np.linspace(1.0, 0.0, cand.size)
    top = select(table, cand, score, 10, 0.0, 0, pool=200)
    assert top.tolist() == list(range(10))
    capped = select(table, cand, score, 30, 0.0, 1, pool=200)
    artists = table.artist_codes[cand[capped]].tolist()
    assert len(capped) == 30 and len(set(artists)) == 30
    assert select(table, cand[:0], score[:0], 10, 0.3, 2, pool=200).size == 0


def test_mood_cutoff_keeps_the_best_share_of_valid_items() -> None:
    scores = np.arange(100, dtype=np.float64) / 100
    valid = np.ones(100, dtype=bool)
    cut = mood_cutoff(scores, valid, keep=0.3)
    assert int((scores >= cut).sum()) == 31  # the quantile item itself is kept
    valid[50:] = False
    assert mood_cutoff(scores, valid, keep=0.3) < 0.5
    assert mood_cutoff(scores, np.zeros(100, dtype=bool), keep=0.3) == 0.0


# ---------------------------------------------------------------- request
def test_request_is_frozen_and_knows_when_it_is_steered() -> None:
    plain = RecommendationRequest()
    assert not plain.steered
    assert RecommendationRequest(mood=Mood.SAD).steered
    assert RecommendationRequest(energy=0.0).steered
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.first = 3  # type: ignore[misc]


def test_onboarding_uses_favourites_only_when_the_request_leaves_room() -> None:
    plain = RecommendationRequest()
    assert onboarding_moods(plain, ["SAD", "HAPPY"]) == [Mood.SAD, Mood.HAPPY]
    assert onboarding_moods(RecommendationRequest(valence=0.9), ["SAD"]) == []
    many = [f"G{i}" for i in range(9)]
    assert onboarding_genres(plain, many) == [f"g{i}" for i in range(MAX_FAVOURITE_GENRES)]
    assert onboarding_genres(RecommendationRequest(genre="rock"), many) == []
    assert onboarding_genres(RecommendationRequest(seeds=("x",)), many) == []


def test_onboarding_fades_as_the_history_grows_and_blends_evenly() -> None:
    assert onboarding_share(0) == 1.0 > onboarding_share(3) > onboarding_share(7) > 0.0
    assert onboarding_share(10) == onboarding_share(40) == 0.0
    guided = [Pick(f"g{i}", 1.0, Source.MOOD) for i in range(10)]
    personal = [Pick(f"p{i}", 1.0, Source.CONTENT) for i in range(10)]
    half = [p.item_id[0] for p in blend(guided, personal, 0.5, 10)]
    assert half.count("g") == 5 and half[:4].count("g") == 2
    assert [p.item_id for p in blend(guided[:2], personal, 1.0, 4)] == ["g0", "g1", "p0", "p1"]


def test_a_feature_no_song_has_is_neutral_and_warns_nothing() -> None:
    """A catalog imported without tempo: every song sits at the mean, no warning per build."""

    raw = np.random.default_rng(7).random((40, len(FEATURE_INDEX)))
    raw[:, FEATURE_INDEX["tempo"]] = np.nan
    raw[3, FEATURE_INDEX["energy"]] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, std = feature_stats(raw)
    assert mean[FEATURE_INDEX["tempo"]] == 0.0 and std[FEATURE_INDEX["tempo"]] == 1.0
    energy = raw[:, FEATURE_INDEX["energy"]]
    assert mean[FEATURE_INDEX["energy"]] == pytest.approx(np.nanmean(energy), rel=1e-5)
    assert std[FEATURE_INDEX["energy"]] == pytest.approx(np.nanstd(energy), rel=1e-5)
