"""CPU of executing issue 12's two read operations in-process, without HTTP or the database.

The app's schema runs each operation over prepared values (twenty recommendations, a page of
twenty songs marked liked or not): the root field's resolver is swapped for one that returns
them, so what is timed is parsing-free execution of the selection (documents are cached as in
the server) plus Strawberry's per-operation extensions. `{ __typename }` is timed too, as the
floor. `--profile NAME` prints a cProfile of that operation instead.

    .venv/bin/python bench/execution.py                 # ms per operation
    .venv/bin/python bench/execution.py --profile songs # where the time goes
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from pathlib import Path
from typing import Any

from bson import ObjectId

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from madhur_gql import documents
from madhur_gql.graphql.schema import Schema, build_schema
from madhur_gql.graphql.types import Connection, Recommendation, Song
from madhur_gql.log_config import configure_logging
from madhur_gql.recommender.values import Source

OPERATIONS = {
    "__typename": "{ __typename }",
    "recommendations": "{ recommendations(first: 20) { score source reasons song { id title artist } } }",
    "songs": '{ songs(first: 20, search: "night") { totalCount edges { node { id title artist likeCount likedByMe } } } }',
}


def song(i: int) -> Song:
    audio = documents.AudioFeatures(
        danceability=0.5,
        energy=0.6,
        valence=0.4,
        tempo=120.0,
        acousticness=0.1,
        instrumentalness=0.0,
        speechiness=0.05,
        liveness=0.1,
        loudness=-6.0,
        key=5,
        mode=1,
    )
    node = Song(
        id=str(ObjectId()),  # type: ignore[arg-type]
        track_id=f"track{i}",
        title=f"Night song {i}",
        artist=f"Artist {i % 7}",
        album=None,
        genres=["pop"],
        release_date="2019",
        popularity=50,
        duration_ms=200_000,
        play_count=i,
        like_count=i * 2,
        language=None,
        country=None,
        artist_id=None,
        audio=audio,
    )
    node.liked = i % 3 == 0
    return node


def prepared(schema: Schema) -> None:
    """Root resolvers that answer with ready values (no services, no database)."""
    recommendations = [
        Recommendation(
            song=song(i),
            score=1.0 - i / 40,
            source=Source.COLLABORATIVE,
            reasons=[f"Played with Song {i} in 3 playlists"],
            list_id="0" * 24,  # type: ignore[arg-type]
        )
        for i in range(20)
    ]
    query = schema._schema.query_type
    assert query is not None
    query.fields["recommendations"].resolve = lambda *_a, **_k: recommendations
    page = [song(i) for i in range(20)]
    query.fields["songs"].resolve = lambda *_a, **_k: Connection.of(page, 0, 93)


async def run(schema: Schema, query: str, count: int) -> float:
    result = await schema.execute(query)
    assert not result.errors, result.errors
    started = time.process_time()
    for _ in range(count):
        await schema.execute(query)
    return (time.process_time() - started) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--profile", choices=list(OPERATIONS), default=None)
    args = parser.parse_args()
    configure_logging("WARNING")  # as wrk_bench.py serves
    schema = build_schema()
    prepared(schema)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(run(schema, OPERATIONS[args.profile], args.count))
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    figures: dict[str, Any] = {}
    for name, query in OPERATIONS.items():
        figures[name] = min(asyncio.run(run(schema, query, args.count)) for _ in range(3))
    floor = figures["__typename"]
    for name, ms in figures.items():
        print(f"{name:<16} {ms:7.3f} ms CPU   {ms - floor:7.3f} ms above the floor")


if __name__ == "__main__":
    main()
