"""The engine's compact layout (narrow packed profiles, support read from the link sources,
recording digests) answers as the wide one did."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import scipy.sparse as sp

from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.item_ids import ItemIds
from madhur_gql.recommender.items import ItemTable
from madhur_gql.recommender.profiles import ProfileStore
from madhur_gql.recommender.provenance import LinkSources
from madhur_gql.recommender.values import CatalogItems, Event, RecommendationRequest
from testsupport.synthetic import synthetic_catalog, synthetic_events

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CONFIGS = {
    "exact": EngineConfig(),
    "candidates": EngineConfig(dense_limit=100, content_candidates=150, ivf_probe=4),
}


@pytest.mark.parametrize("path", sorted(CONFIGS))
def test_a_shipped_engine_recommends_as_the_built_one(path: str) -> None:
    """The API process serves the engine the build child pickled: the same picks, scores,
    reasons' evidence and similar songs for every listener."""
    catalog = synthetic_catalog(600, seed=4)
    events = synthetic_events(catalog, n_users=120, start=NOW - timedelta(days=60))
    built = RecommenderEngine.build(catalog, events, config=CONFIGS[path])
    shipped = pickle.loads(pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301
    users = sorted({e.user_id for e in events})
    request = RecommendationRequest(first=15)
    for user in users:
        left = built.recommend(user, request, now=NOW)
        right = shipped.recommend(user, request, now=NOW)
        assert [p.item_id for p in left] == [p.item_id for p in right]
        assert [p.score for p in left] == pytest.approx([p.score for p in right], rel=1e-5)
        assert [(p.because, p.basis) for p in left] == [(p.because, p.basis) for p in right]
    for song in catalog.ids[:50]:
        assert [p.item_id for p in built.similar(song, 10)] == [
            p.item_id for p in shipped.similar(song, 10)
        ]


def test_link_support_counts_the_established_rows_holding_both_songs() -> None:
    """Playlists and established listeners count; a row outside them does not."""
    rng = np.random.default_rng(7)
    x = sp.csr_matrix((rng.random((30, 12)) < 0.4) * rng.random((30, 12)), dtype=np.float32)
    established = rng.random(30) < 0.7
    established[:10] = True  # the first 10 rows are playlists
    links = LinkSources.split(x, 10, established)
    held = (x.toarray() > 0) & established[:, None]
    a, b = np.array([0, 3, 5, 11]), np.array([1, 2, 3, 7, 11])
    expected = np.array([[np.sum(held[:, i] & held[:, j]) for j in b] for i in a])
    left, right = np.repeat(a, b.size), np.tile(b, a.size)
    assert links.pair_support(left, right).reshape(a.size, b.size).tolist() == expected.tolist()
    assert links.holders().tolist() == held.sum(axis=0).tolist()


def _with_recordings(catalog: CatalogItems) -> CatalogItems:
    keys = [f"recording-{i // 2}" for i in range(len(catalog.ids))]  # two versions each
    return dataclasses.replace(catalog, recordings=keys)


def test_a_version_added_after_the_build_is_its_recordings_song() -> None:
    catalog = _with_recordings(synthetic_catalog(40, n_groups=4, seed=5))
    table = ItemTable.build(catalog, EngineConfig())
    canonical = table.song_row(catalog.ids[6])
    assert canonical == table.song_row(catalog.ids[7])
    added = dataclasses.replace(
        catalog,
        ids=["remaster", "new-song", "its-edit"],
        features=catalog.features[:3],
        artists=catalog.artists[:3],
        genres=catalog.genres[:3],
        popularity=catalog.popularity[:3],
        groups=[],
        recordings=["recording-3", "recording-new", "recording-new"],
        languages=[],
        countries=[],
    )
    table.upsert(added)
    assert table.song_row("remaster") == canonical
    assert table.song_row("its-edit") == table.song_row("new-song") == table.ids.row_of("new-song")
    assert table.song_row("new-song") != canonical


def test_events_recorded_on_a_shipped_engine_count_like_on_the_built_one() -> None:
    catalog = synthetic_catalog(300, seed=6)
    events = synthetic_events(catalog, n_users=110, start=NOW - timedelta(days=40))
    built = RecommenderEngine.build(catalog, events)
    shipped = pickle.loads(pickle.dumps(built))  # noqa: S301 - our own bytes
    user = events[0].user_id
    for engine in (built, shipped):
        for item in catalog.ids[100:104]:
            engine.record(Event(user, item, "like", NOW))
        engine.record(Event(user, catalog.ids[200], "skip", NOW + timedelta(seconds=1)))
    request = RecommendationRequest(first=10)
    assert [p.item_id for p in built.recommend(user, request, now=NOW)] == [
        p.item_id for p in shipped.recommend(user, request, now=NOW)
    ]


def test_item_ids_find_every_row_and_nothing_else() -> None:
    names = ["b7", "a", "ümlaut", "", "zz-top", "a1"]
    ids = pickle.loads(pickle.dumps(ItemIds(names)))  # noqa: S301 - shipped as the engine is
    assert [ids[r] for r in range(len(ids))] == names == list(ids)
    assert [ids.row_of(name) for name in names] == list(range(len(names)))
    assert ids.row_of("a12") is None and ids.row_of("a-much-longer-id-than-any") is None
    assert ids.append("later") == 6 and ids.row_of("later") == 6 and ids[6] == "later"
    assert "later" in ids and "never" not in ids
    with pytest.raises(ValueError, match="duplicate"):
        ItemIds(["x", "y", "x"])


def test_a_skip_and_a_play_a_moment_apart_keep_their_order_once_shipped() -> None:
    """Packed profiles keep event times relative to the latest: a skip half a second after
    a like still keeps the song out, a like half a second after a skip lets it back."""
    store = ProfileStore(EngineConfig())
    long_ago = NOW - timedelta(days=40)  # past recent_days: only the skip can exclude
    store.record(Event("skipped-last", "x", "like", long_ago), 3)
    store.record(Event("skipped-last", "x", "skip", long_ago + timedelta(seconds=0.5)), 3)
    store.record(Event("liked-last", "x", "skip", long_ago), 5)
    store.record(Event("liked-last", "x", "like", long_ago + timedelta(seconds=0.5)), 5)
    shipped = pickle.loads(pickle.dumps(store))  # noqa: S301 - our own bytes
    for profiles in (store, shipped):
        assert profiles.profile("skipped-last", NOW.timestamp()).excluded.tolist() == [3]
        liked_last = profiles.profile("liked-last", NOW.timestamp())
        assert liked_last.excluded.tolist() == [] and liked_last.items.tolist() == [5]


def test_item_ids_look_many_up_at_once_as_one_by_one() -> None:
    ids = ItemIds([f"{i:024x}" for i in range(500)])
    ids.append("added-later")
    asked = ["added-later", f"{7:024x}", "nope", f"{499:024x}", "x" * 40, f"{7:024x}"[:-1]]
    assert ids.rows_of(asked) == [ids.row_of(i) for i in asked] == [500, 7, None, 499, None, None]
