"""Synthetic catalogs and listening logs for tests and speed benchmarks.

Items belong to genres with distinct audio-feature centres; artists sit inside one genre;
playlists and users mostly draw from one or two genres with Zipf-like item popularity. That
gives CF, content and mood something real to find without shipping any real data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import scipy.sparse as sp

from madhur_gql.recommender.features import FEATURE_NAMES
from madhur_gql.recommender.values import CatalogItems, Event

GENRES = ("rock", "pop", "jazz", "edm", "classical", "hiphop")
# Raw feature centres per genre in FEATURE_NAMES order:
# dance, energy, valence, tempo, acoustic, instrumental, speech, liveness, loudness
_CENTRES = np.array(
    [
        [0.45, 0.85, 0.45, 130.0, 0.05, 0.05, 0.05, 0.2, -5.0],  # rock
        [0.70, 0.70, 0.75, 118.0, 0.15, 0.00, 0.06, 0.15, -5.5],  # pop
        [0.50, 0.35, 0.55, 100.0, 0.70, 0.40, 0.05, 0.2, -12.0],  # jazz
        [0.80, 0.90, 0.55, 128.0, 0.02, 0.60, 0.05, 0.2, -4.0],  # edm
        [0.25, 0.15, 0.25, 80.0, 0.95, 0.90, 0.04, 0.1, -20.0],  # classical
        [0.80, 0.65, 0.50, 95.0, 0.10, 0.00, 0.30, 0.2, -6.0],  # hiphop
    ],
    dtype=np.float32,
)
_SPREAD = np.array([0.08, 0.08, 0.12, 8.0, 0.08, 0.08, 0.03, 0.05, 1.5], dtype=np.float32)


def synthetic_catalog(
    n_items: int = 600,
    *,
    n_artists: int = 60,
    n_groups: int = 80,
    group_size: int = 15,
    seed: int = 0,
) -> CatalogItems:
    """A catalog of ``n_items`` songs in ``len(GENRES)`` genres with playlists as groups."""
    rng = np.random.default_rng(seed)
    artist_genre = np.arange(n_artists) % len(GENRES)
    item_artist = rng.integers(0, n_artists, n_items)
    item_genre = artist_genre[item_artist]
    feats = _CENTRES[item_genre] + rng.normal(size=(n_items, len(FEATURE_NAMES))) * _SPREAD
    for j, name in enumerate(FEATURE_NAMES):
        if name not in ("tempo", "loudness"):
            feats[:, j] = np.clip(feats[:, j], 0.0, 1.0)
    popularity = np.clip(rng.gamma(2.0, 15.0, n_items), 0, 100).astype(np.float32)
    ids = [f"song-{i:05d}" for i in range(n_items)]
    by_genre = [np.flatnonzero(item_genre == g) for g in range(len(GENRES))]
    groups: list[list[str]] = []
    for _ in range(n_groups):
        pool = by_genre[int(rng.integers(len(GENRES)))]
        p = popularity[pool] + 1.0
        size = min(group_size, pool.size)
        members = rng.choice(pool, size=size, replace=False, p=p / p.sum())
        groups.append([ids[m] for m in members])
    return CatalogItems(
        ids=ids,
        features=feats.astype(np.float32),
        artists=[f"artist-{a:03d}" for a in item_artist],
        genres=[(GENRES[g],) for g in item_genre],
        popularity=popularity,
        groups=groups,
    )


def synthetic_events(
    items: CatalogItems,
    n_users: int = 50,
    per_user: int = 20,
    *,
    seed: int = 1,
    start: datetime | None = None,
) -> list[Event]:
    """Plays and likes of users who each prefer one genre (time-ordered, one day apart)."""
    rng = np.random.default_rng(seed)
    t0 = start or datetime(2026, 1, 1, tzinfo=UTC)
    genre_of = np.array([GENRES.index(g[0]) for g in items.genres])
    events: list[Event] = []
    for u in range(n_users):
        pool = np.flatnonzero(genre_of == u % len(GENRES))
        chosen = rng.choice(pool, size=min(per_user, pool.size), replace=False)
        for step, i in enumerate(chosen):
            kind = "like" if rng.random() < 0.3 else "play"
            events.append(Event(f"user-{u}", items.ids[i], kind, t0 + timedelta(hours=step)))
    return events


def large_interactions(
    n_users: int, n_items: int, nnz: int, *, seed: int = 0, zipf: float = 1.1
) -> sp.csr_matrix:
    """Users x items CSR with ~nnz entries, Zipf item popularity and user taste clusters.

    Each user draws items around a random "home" region of the item index so co-occurrence
    has structure (and a realistic sparsity pattern) at any scale.
    """
    rng = np.random.default_rng(seed)
    per_user = max(1, int(1.3 * nnz / n_users))  # oversample: duplicates collapse below
    users = np.repeat(np.arange(n_users, dtype=np.int64), per_user)
    home = rng.integers(0, n_items, n_users)
    ranks = rng.zipf(zipf, size=users.size).astype(np.float64)
    ranks = np.minimum(ranks, n_items)
    offsets = (rng.standard_normal(users.size) * np.sqrt(ranks) * 50).astype(np.int64)
    local = (home[users] + offsets) % n_items
    # half the picks are globally popular items, half local to the user's region
    global_pick = (ranks.astype(np.int64) * 7919) % n_items
    items = np.where(rng.random(users.size) < 0.5, local, global_pick)
    data = np.ones(users.size, dtype=np.float32)
    m = sp.csr_matrix((data, (users, items)), shape=(n_users, n_items))
    m.sum_duplicates()
    if m.nnz > nnz:  # trim to exactly nnz distinct (user, item) pairs
        coo = m.tocoo()
        keep = np.sort(rng.choice(coo.nnz, size=nnz, replace=False))
        m = sp.csr_matrix(
            (coo.data[keep], (coo.row[keep], coo.col[keep])), shape=(n_users, n_items)
        )
    return m
