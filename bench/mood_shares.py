"""Moods measured: the share of a new listener's top 20 inside each mood's region.

Usage:
    .venv/bin/python -m bench.mood_shares [--catalog fixtures/spotify_songs.csv.gz]

The catalog is the shipped demo fixture (28k songs, its playlists as groups); the listener has
no history, as right after sign-up. A mood's region is the disc of radius 0.2 around its
(valence, energy) target (``recommender.mood.in_region``). Prints one row per mood and JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from bench.recommender_speed import FIXTURE
from madhur_gql.recommender.engine import (
    FEATURE_NAMES,
    CatalogItems,
    Mood,
    RecommendationRequest,
    RecommenderEngine,
)
from madhur_gql.recommender.features import unit_scale
from madhur_gql.recommender.mood import in_region


def catalog(path: Path) -> CatalogItems:
    df = pd.read_csv(path)
    songs = df.drop_duplicates("track_id")
    return CatalogItems(
        ids=songs["track_id"].tolist(),
        features=songs[list(FEATURE_NAMES)].to_numpy(np.float32),
        artists=songs["track_artist"].fillna("").astype(str).tolist(),
        genres=[(str(g),) for g in songs["playlist_genre"]],
        popularity=songs["track_popularity"].to_numpy(np.float32),
        groups=df.groupby("playlist_id")["track_id"].agg(list).tolist(),
    )


def shares(items: CatalogItems, first: int = 20) -> dict[str, float]:
    engine = RecommenderEngine.build(items, [])
    unit = unit_scale(np.asarray(items.features, dtype=np.float32))
    row = {item_id: k for k, item_id in enumerate(items.ids)}
    out: dict[str, float] = {}
    for mood in Mood:
        picks = engine.recommend("new-listener", RecommendationRequest(first=first, mood=mood))
        rows = np.asarray([row[p.item_id] for p in picks], dtype=np.int64)
        out[mood.value] = float(in_region(unit[rows], mood).mean()) if rows.size else 0.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", type=Path, default=FIXTURE)
    args = parser.parse_args()
    result = shares(catalog(args.catalog))
    for mood, share in result.items():
        print(f"{mood:<10} {share:.0%}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
