"""Behaviour of the hybrid engine that a listener would notice (synthetic catalog only)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from madhur_gql.recommender.engine import (
    FEATURE_NAMES,
    CatalogItems,
    EngineConfig,
    Event,
    Mood,
    RecommendationRequest,
    RecommenderEngine,
    Source,
)
from testsupport.synthetic import synthetic_catalog, synthetic_events

NOW = datetime(2026, 3, 1, tzinfo=UTC)
VALENCE = FEATURE_NAMES.index("valence")
ENERGY = FEATURE_NAMES.index("energy")


@pytest.fixture(scope="module")
def catalog() -> CatalogItems:
    return synthetic_catalog(600, seed=0)


@pytest.fixture(scope="module", params=["exact", "candidates"])
def built(request: pytest.FixtureRequest, catalog: CatalogItems) -> RecommenderEngine:
    """Every behaviour holds both for exact full-catalog scoring and for the candidate path
    (CF reach + IVF content shortlist) that huge catalogs use."""
    events = synthetic_events(catalog, n_users=40, start=NOW - timedelta(days=60))
    config = (
        EngineConfig()
        if request.param == "exact"
        else EngineConfig(dense_limit=100, content_candidates=150, ivf_probe=4)
    )
    return RecommenderEngine.build(catalog, events, config=config)


@pytest.fixture
def engine(built: RecommenderEngine) -> RecommenderEngine:
    """A private copy per test: tests record events and remove items."""
    return copy.deepcopy(built)


def _genre(catalog: CatalogItems, item_id: str) -> str:
    return catalog.genres[catalog.ids.index(item_id)][0]


def _items_of(catalog: CatalogItems, genre: str) -> list[str]:
    return [i for i, g in zip(catalog.ids, catalog.genres, strict=True) if g[0] == genre]


def _like(engine: RecommenderEngine, user: str, items: list[str], kind: str = "like") -> None:
    for n, item in enumerate(items):
        engine.record(Event(user, item, kind, NOW - timedelta(minutes=len(items) - n)))


def test_ready_and_stats(engine: RecommenderEngine) -> None:
    stats = engine.stats()
    assert engine.ready
    assert stats["items"] == 600
    assert stats["cf_edges"] > 0
    assert stats["index_bytes"] > 0


def test_cold_user_gets_popular_diverse_picks(
    engine: RecommenderEngine, catalog: CatalogItems
) -> None:
    picks = engine.recommend("nobody", RecommendationRequest(10), now=NOW)
    assert len(picks) == 10
    assert all(p.source is Source.POPULAR for p in picks)
    median_pop = float(np.median(catalog.popularity))
    chosen_pop = [catalog.popularity[catalog.ids.index(p.item_id)] for p in picks]
    assert np.mean(chosen_pop) > median_pop
    assert engine.recommend(None, RecommendationRequest(5), now=NOW)[0].source is Source.POPULAR


def test_likes_personalise_and_a_new_like_changes_the_list(
    engine: RecommenderEngine, catalog: CatalogItems
) -> None:
    _like(engine, "ana", _items_of(catalog, "jazz")[:5])
    first = engine.recommend("ana", RecommendationRequest(10), now=NOW)
    assert {p.source for p in first} <= {Source.COLLABORATIVE, Source.CONTENT}
    assert sum(_genre(catalog, p.item_id) == "jazz" for p in first) >= 7
    assert all(p.because for p in first)

    _like(engine, "ana", _items_of(catalog, "edm")[:8])
    second = engine.recommend("ana", RecommendationRequest(10), now=NOW)
    assert [p.item_id for p in second] != [p.item_id for p in first]
    assert any(_genre(catalog, p.item_id) == "edm" for p in second)


def test_played_liked_and_skipped_songs_never_come_back(
    engine: RecommenderEngine, catalog: CatalogItems
) -> None:
    rock = _items_of(catalog, "rock")
    _like(engine, "bo", rock[:4])
    _like(engine, "bo", rock[4:8], kind="play")
    picks = engine.recommend("bo", RecommendationRequest(30), now=NOW)
    skipped = [p.item_id for p in picks[:3]]
    _like(engine, "bo", skipped, kind="skip")
    assert len(picks) == 30
    again = {p.item_id for p in engine.recommend("bo", RecommendationRequest(30), now=NOW)}
    assert len(again) == 30
    assert not again & set(rock[:8])
    assert not again & set(skipped)
    excluded = {p.item_id for p in engine.recommend("bo", RecommendationRequest(5), now=NOW)}
    later_request = RecommendationRequest(30, exclude=frozenset(excluded))
    later = {p.item_id for p in engine.recommend("bo", later_request, now=NOW)}
    assert len(excluded) == 5
    assert len(later) == 30
    assert not later & excluded


def test_artist_cap_holds(engine: RecommenderEngine, catalog: CatalogItems) -> None:
    _like(engine, "cy", _items_of(catalog, "pop")[:6])
    for cap in (1, 2):
        picks = engine.recommend("cy", RecommendationRequest(20, max_per_artist=cap), now=NOW)
        assert len(picks) == 20
        artists = [catalog.artists[catalog.ids.index(p.item_id)] for p in picks]
        assert max(artists.count(a) for a in set(artists)) <= cap


@pytest.mark.parametrize(
    ("mood", "axis", "side"),
    [
        (Mood.CALM, ENERGY, "low"),
        (Mood.ENERGETIC, ENERGY, "high"),
        (Mood.SAD, VALENCE, "low"),
        (Mood.HAPPY, VALENCE, "high"),
    ],
)
def test_mood_picks_sit_on_the_right_side(
    engine: RecommenderEngine, catalog: CatalogItems, mood: Mood, axis: int, side: str
) -> None:
    overall = float(np.median(catalog.features[:, axis]))
    for user in (None, "user-1"):
        picks = engine.recommend(user, RecommendationRequest(10, mood=mood), now=NOW)
        assert len(picks) == 10
        values = [catalog.features[catalog.ids.index(p.item_id), axis] for p in picks]
        assert all(p.mood is mood for p in picks)
        if side == "low":
            assert np.mean(values) < overall
        else:
            assert np.mean(values) > overall
    anonymous = engine.recommend(None, RecommendationRequest(5, mood=mood), now=NOW)
    assert len(anonymous) == 5
    assert all(p.source is Source.MOOD for p in anonymous)


def test_free_valence_energy_coordinates(engine: RecommenderEngine, catalog: CatalogItems) -> None:
    picks = engine.recommend(None, RecommendationRequest(10, valence=0.1, energy=0.1), now=NOW)
    assert len(picks) == 10
    feats = catalog.features[[catalog.ids.index(p.item_id) for p in picks]]
    assert feats[:, VALENCE].mean() < 0.4
    assert feats[:, ENERGY].mean() < 0.4


def test_seeds_give_similar_songs(engine: RecommenderEngine, catalog: CatalogItems) -> None:
    seeds = _items_of(catalog, "classical")[:2]
    picks = engine.recommend(None, RecommendationRequest(10, seeds=tuple(seeds)), now=NOW)
    assert len(picks) == 10
    assert all(p.source is Source.SEED for p in picks)
    assert not {p.item_id for p in picks} & set(seeds)
    assert sum(_genre(catalog, p.item_id) == "classical" for p in picks) >= 8


def test_genre_filter(engine: RecommenderEngine, catalog: CatalogItems) -> None:
    _like(engine, "di", _items_of(catalog, "rock")[:5])
    picks = engine.recommend("di", RecommendationRequest(10, genre="HipHop"), now=NOW)
    assert len(picks) == 10
    assert all(_genre(catalog, p.item_id) == "hiphop" for p in picks)


def test_scores_are_in_unit_range(engine: RecommenderEngine, catalog: CatalogItems) -> None:
    _like(engine, "ed", _items_of(catalog, "jazz")[:3])
    for picks in (
        engine.recommend("ed", RecommendationRequest(20), now=NOW),
        engine.recommend(None, RecommendationRequest(20), now=NOW),
        engine.recommend("ed", RecommendationRequest(20, mood=Mood.PARTY), now=NOW),
        engine.similar(catalog.ids[0], 20),
    ):
        assert len(picks) == 20
        assert all(0.0 <= p.score <= 1.0 for p in picks)


def test_removed_items_vanish_at_once(engine: RecommenderEngine, catalog: CatalogItems) -> None:
    _like(engine, "fa", _items_of(catalog, "edm")[:4])
    before = engine.recommend("fa", RecommendationRequest(10), now=NOW)
    popular = engine.recommend(None, RecommendationRequest(10), now=NOW)
    gone = {before[0].item_id, popular[0].item_id}
    engine.remove_items(gone)
    assert len(gone) >= 1
    after = {
        "personal": engine.recommend("fa", RecommendationRequest(10), now=NOW),
        "popular": engine.recommend(None, RecommendationRequest(10), now=NOW),
        "similar": engine.similar(before[1].item_id, 50),
    }
    for name, picks in after.items():
        assert len(picks) == (50 if name == "similar" else 10), name
        assert not gone & {p.item_id for p in picks}, name


def test_similar_prefers_same_genre(engine: RecommenderEngine, catalog: CatalogItems) -> None:
    item = _items_of(catalog, "classical")[0]
    picks = engine.similar(item, 10)
    assert len(picks) == 10
    assert item not in {p.item_id for p in picks}
    assert sum(_genre(catalog, p.item_id) == "classical" for p in picks) >= 8
    assert all(p.because == (item,) for p in picks)


def test_new_items_rank_through_content(engine: RecommenderEngine, catalog: CatalogItems) -> None:
    classical = catalog.ids.index(_items_of(catalog, "classical")[0])
    new = CatalogItems(
        ids=["brand-new"],
        features=catalog.features[[classical]].copy(),
        artists=["new-artist"],
        genres=[("classical",)],
        popularity=np.array([0.0], dtype=np.float32),
        groups=[],
    )
    engine.add_or_update_items(new)
    assert engine.stats()["items"] == 601
    assert "brand-new" in {p.item_id for p in engine.similar(catalog.ids[classical], 10)}
    seeds = _items_of(catalog, "classical")[:1]
    picks = engine.recommend(None, RecommendationRequest(40, seeds=tuple(seeds)), now=NOW)
    assert "brand-new" in {p.item_id for p in picks}


def test_unlike_withdraws_taste(engine: RecommenderEngine, catalog: CatalogItems) -> None:
    jazz = _items_of(catalog, "jazz")[:5]
    _like(engine, "gu", jazz)
    _like(engine, "gu", jazz, kind="unlike")
    picks = engine.recommend("gu", RecommendationRequest(5), now=NOW)
    # with every like withdrawn the user has no positive taste left -> popular fallback
    assert len(picks) == 5
    assert all(p.source is Source.POPULAR for p in picks)


def test_old_plays_may_return_recent_ones_do_not(
    engine: RecommenderEngine, catalog: CatalogItems
) -> None:
    song = _items_of(catalog, "jazz")[0]
    everything = RecommendationRequest(600, diversity=0, max_per_artist=0)
    engine.record(Event("hu", song, "play", NOW - timedelta(days=400)))
    assert song in {p.item_id for p in engine.recommend("hu", everything, now=NOW)}
    engine.record(Event("hu", song, "play", NOW - timedelta(days=1)))
    assert song not in {p.item_id for p in engine.recommend("hu", everything, now=NOW)}


def test_evidence_names_only_the_listeners_own_songs(
    engine: RecommenderEngine, catalog: CatalogItems
) -> None:
    liked = _items_of(catalog, "rock")[:4]
    _like(engine, "iv", liked)
    picks = engine.recommend("iv", RecommendationRequest(10), now=NOW)
    assert len(picks) == 10
    assert all(p.because and set(p.because) <= set(liked) for p in picks)
    seeds = tuple(_items_of(catalog, "jazz")[:2])
    seeded = engine.recommend("iv", RecommendationRequest(10, seeds=seeds), now=NOW)
    assert len(seeded) == 10
    assert all(p.source is Source.SEED and set(p.because) <= set(seeds) for p in seeded)
    moody = engine.recommend(None, RecommendationRequest(5, mood=Mood.CALM), now=NOW)
    assert len(moody) == 5
    assert all(p.because == () and p.mood is Mood.CALM for p in moody)


def test_taste_without_any_signal_falls_back_to_popular() -> None:
    base = synthetic_catalog(60, n_groups=0, seed=4)
    feats = base.features.copy()
    feats[0] = np.nan  # a song with no audio features and (no groups) no CF neighbours
    items = CatalogItems(base.ids, feats, base.artists, base.genres, base.popularity, [])
    engine = RecommenderEngine.build(items, [])
    engine.record(Event("zoe", base.ids[0], "like", NOW))
    picks = engine.recommend("zoe", RecommendationRequest(5), now=NOW)
    assert len(picks) == 5
    assert all(p.source is Source.POPULAR for p in picks)
    assert base.ids[0] not in {p.item_id for p in picks}


def test_empty_catalog_is_harmless() -> None:
    empty = CatalogItems([], np.zeros((0, len(FEATURE_NAMES)), np.float32), [], [], np.zeros(0), [])
    engine = RecommenderEngine.build(empty, [Event("u", "missing", "play", NOW)])
    assert engine.ready
    assert engine.recommend("u", RecommendationRequest(5), now=NOW) == []
    assert engine.recommend(None, RecommendationRequest(5, mood=Mood.CALM), now=NOW) == []
    assert engine.similar("missing") == []
