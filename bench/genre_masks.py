"""Memory the recommender keeps for made-up `genre` values (issue 15): the mask cache, measured
with tracemalloc on a synthetic 28,351-song table (the demo catalog's size), in this process.

    .venv/bin/python bench/genre_masks.py

Sends 2,000 distinct short made-up genres, then 1,000 of 20 kB, straight to the item table
(the API refuses genres over 50 characters before they get there; this measures the cache
itself). Run it on two checkouts to compare.
"""

from __future__ import annotations

import json
import tracemalloc

import numpy as np

from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.features import FEATURE_NAMES
from madhur_gql.recommender.items import ItemTable
from madhur_gql.recommender.values import CatalogItems

SONGS = 28_351


def table() -> ItemTable:
    rng = np.random.default_rng(1)
    items = CatalogItems(
        ids=[str(i) for i in range(SONGS)],
        features=rng.random((SONGS, len(FEATURE_NAMES)), dtype=np.float32),
        artists=[str(i % 5000) for i in range(SONGS)],
        genres=[("pop",) if i % 3 else ("rock",) for i in range(SONGS)],
        popularity=np.zeros(SONGS, dtype=np.float32),
    )
    return ItemTable.build(items, EngineConfig())


def main() -> None:
    songs = table()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(2000):
        songs.genre_mask(f"{i:06d}" + "g" * 44)
    short = tracemalloc.get_traced_memory()[0] - base
    for i in range(1000):
        songs.genre_mask(f"{i:06d}" + "x" * 20_000)
    both = tracemalloc.get_traced_memory()[0] - base
    print(
        json.dumps(
            {
                "kept_after_2000_short_MiB": round(short / 2**20, 1),
                "kept_after_1000_more_of_20kB_MiB": round(both / 2**20, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
