"""Import throughput and peak memory: the fixture catalog and generated files of N rows.

Each run imports into a fresh embedded SecantusDB through the real CLI, in a child process,
and reads the child's peak resident memory from the kernel (ru_maxrss). Memory staying
flat from 100k to 1M rows is the point of the chunked reader.

    .venv/bin/python bench/import_bench.py --rows 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "spotify_songs.csv.gz"
CLI = Path(sys.executable).parent / "madhur-gql"
sys.path.insert(0, str(ROOT))

from madhur_gql.db.embedded import EmbeddedMongo  # noqa: E402

GENRES = ["pop", "rap", "rock", "latin", "r&b", "edm"]


def generate(path: Path, rows: int, seed: int = 7, chunk: int = 100_000) -> None:
    """spotify_songs layout; ~12% of rows repeat a track in another playlist, as the real data."""
    rng = np.random.default_rng(seed)
    header = True
    with path.open("w") as out:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ids = np.arange(start, start + n)
            repeat = rng.random(n) < 0.12
            ids[repeat] = rng.integers(0, max(start + 1, 1), repeat.sum())
            frame = pd.DataFrame(
                {
                    "track_id": [f"gen{i:019d}" for i in ids],
                    "track_name": [f"Song {i}" for i in ids],
                    "track_artist": [f"Artist {i % 50_000}" for i in ids],
                    "track_popularity": rng.integers(0, 101, n),
                    "track_album_id": [f"alb{i // 10}" for i in ids],
                    "track_album_name": [f"Album {i // 10}" for i in ids],
                    "track_album_release_date": [
                        f"{1970 + i % 55}-0{1 + i % 9}-1{i % 9}" for i in ids
                    ],
                    "playlist_name": "Generated",
                    "playlist_id": [f"pl{i}" for i in rng.integers(0, 20_000, n)],
                    "playlist_genre": rng.choice(GENRES, n),
                    "playlist_subgenre": "generated",
                    **{
                        name: rng.random(n).round(4)
                        for name in (
                            "danceability",
                            "energy",
                            "speechiness",
                            "acousticness",
                            "instrumentalness",
                            "liveness",
                            "valence",
                        )
                    },
                    "key": rng.integers(0, 12, n),
                    "loudness": (-rng.random(n) * 30).round(3),
                    "mode": rng.integers(0, 2, n),
                    "tempo": (60 + rng.random(n) * 120).round(3),
                    "duration_ms": rng.integers(90_000, 400_000, n),
                }
            )
            frame.to_csv(out, header=header, index=False)
            header = False


def run_import(path: Path, rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data_dir, EmbeddedMongo(Path(data_dir)) as server:
        env = {**os.environ, "MONGODB_URI": server.uri, "MADHUR_DB_NAME": "bench"}
        started = time.perf_counter()
        child = subprocess.Popen(
            [str(CLI), "import-songs", str(path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the server's
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        assert child.returncode == 0, f"import failed with {child.returncode}"
    return {
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000])
    parser.add_argument("--skip-fixture", action="store_true")
    args = parser.parse_args()
    results = []
    if not args.skip_fixture:
        results.append({"file": FIXTURE.name, **run_import(FIXTURE, 32_833)})
        print(json.dumps(results[-1]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sorted(args.rows):
            path = Path(tmp) / f"generated-{rows}.csv"
            generate(path, rows)
            results.append({"file": f"generated {rows:,} rows", **run_import(path, rows)})
            print(json.dumps(results[-1]), flush=True)


if __name__ == "__main__":
    main()
