"""Taste mixes (Spotify's Daily Mix is the model): a listener's taste split into clusters.

The positive items of a profile are clustered with k-means on their audio vectors plus their
genres (one-hot, weighted ``GENRE_WEIGHT``), each item weighted by its profile strength. Each
cluster becomes a mix: its strongest items seed new picks, and its "rested" favourites (in the
taste but not played or liked within the engine's ``recent_days``) are mixed back in. A mix is
named from what it holds: its leading genres ("Rock and latin") and, when two mixes would share
a name, its sound ("Calm acoustic").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from madhur_gql.recommender.features import FEATURE_INDEX
from madhur_gql.recommender.items import ItemTable
from madhur_gql.recommender.profiles import Profile

GENRE_WEIGHT = 1.0
MIN_CLUSTER = 3  # items a cluster needs before it becomes a mix
SEEDS_PER_MIX = 10
_DISPLAY = {"r&b": "R&B", "edm": "EDM"}


@dataclass(frozen=True, slots=True)
class TasteCluster:
    """One part of a taste: its items (strongest first), rested favourites and its name."""

    seeds: tuple[int, ...]
    rested: tuple[int, ...]
    title: str
    sound: str  # e.g. "calm acoustic"; "" when nothing stands out
    genres: tuple[str, ...]


def preload_clustering() -> None:
    """Import scikit-learn's KMeans ahead of the first mix (call it in a thread at start-up).

    The import takes ~2-3 s; made by the first `myMixes` request it held that worker's event
    loop, every other request waiting, for as long."""
    import sklearn.cluster  # noqa: F401


def taste_clusters(items: ItemTable, profile: Profile, count: int) -> list[TasteCluster]:
    """Up to ``count`` clusters of the profile's positive items, biggest taste first."""
    positive = profile.weights > 0
    rows, weights = profile.items[positive], profile.weights[positive].astype(np.float64)
    k = min(count, rows.size // MIN_CLUSTER)
    if k < 1:
        return []
    genres = sorted({g for r in rows.tolist() for g in items.genres[r][:1]})
    onehot = np.zeros((rows.size, len(genres)))
    for i, r in enumerate(rows.tolist()):
        for g in items.genres[r][:1]:
            onehot[i, genres.index(g)] = GENRE_WEIGHT
    x = np.hstack([items.content.vectors[rows], onehot])
    # Imported here: scikit-learn (with scipy.stats and pandas) is about half of the API's
    # import time, and only a mix needs it.
    from sklearn.cluster import KMeans

    with threadpool_limits(limits=1):  # a few hundred points: threads only add overhead
        model = KMeans(n_clusters=k, n_init=2, random_state=0)
        labels = model.fit_predict(x, sample_weight=weights)
    excluded = set(profile.excluded.tolist())
    clusters = []
    for label in range(k):
        members = np.flatnonzero(labels == label)
        if members.size == 0:
            continue
        order = members[np.argsort(-weights[members], kind="stable")]
        member_rows = rows[order]
        clusters.append(
            (
                float(weights[members].sum()),
                member_rows,
                tuple(r for r in member_rows.tolist() if r not in excluded),
            )
        )
    clusters.sort(key=lambda c: -c[0])
    named = name_clusters(items, [c[1] for c in clusters])
    return [
        TasteCluster(tuple(c[1][:SEEDS_PER_MIX].tolist()), c[2], title, sound, genres_)
        for c, (title, sound, genres_) in zip(clusters, named, strict=True)
    ]


def name_clusters(
    items: ItemTable, clusters: list[np.ndarray]
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(title, sound, leading genres) per cluster; titles differ from each other."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for rows in clusters:
        counts = Counter(g for r in rows.tolist() for g in items.genres[r])
        leading = [g for g, _ in counts.most_common(2)]
        if len(leading) == 2 and counts[leading[1]] < 0.4 * counts[leading[0]]:
            leading = leading[:1]
        sound = sound_of(items.unit[rows].mean(axis=0)) if rows.size else ""
        title = " and ".join(genre_label(g) for g in leading) if leading else ""
        title = title[:1].upper() + title[1:] if title else (sound.capitalize() or "Your mix")
        out.append((title, sound, tuple(leading)))
    seen: Counter[str] = Counter(t for t, _, _ in out)
    unique: list[tuple[str, str, tuple[str, ...]]] = []
    for number, (title, sound, genres) in enumerate(out, start=1):
        if seen[title] > 1:
            title = f"{sound.capitalize()} {title.lower()}" if sound else f"{title} {number}"
        unique.append((title, sound, genres))
    return unique


def genre_label(genre: str) -> str:
    return _DISPLAY.get(genre, genre)


def sound_of(unit: np.ndarray) -> str:
    """Words for a mean 0..1 feature vector: "calm acoustic", "energetic dance", ..."""

    def f(name: str) -> float:
        return float(unit[FEATURE_INDEX[name]])

    words = []
    if f("energy") < 0.4:
        words.append("calm")
    elif f("energy") > 0.75:
        words.append("energetic")
    if f("valence") > 0.7:
        words.append("upbeat")
    elif f("valence") < 0.3:
        words.append("melancholic")
    if f("acousticness") > 0.5:
        words.append("acoustic")
    if f("instrumentalness") > 0.5:
        words.append("instrumental")
    elif f("danceability") > 0.7:
        words.append("dance")
    return " ".join(words[:3])
