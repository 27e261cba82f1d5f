"""The importer's own overhead: `import_songs` against a raw `insert_many` of the same documents.

One embedded server at its default durability, one run: the demo catalog is imported into a
fresh database with the real importer (reading, validating, grouping, artists, inserts), then
the documents it stored (songs and artists) are read back and inserted again with pymongo's
`insert_many`, in the importer's chunk size and with the application's write concern, into
another fresh database on the same server. The ratio is the importer's time over the raw one.

    .venv/bin/python bench/import_overhead.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from madhur_gql.config import Settings  # noqa: E402
from madhur_gql.db.connection import WRITE_CONCERN, init_database  # noqa: E402
from madhur_gql.db.embedded import EmbeddedMongo  # noqa: E402
from madhur_gql.services.catalog.import_rows import CHUNK_ROWS  # noqa: E402
from madhur_gql.services.catalog.importer import import_songs  # noqa: E402

RESULTS = ROOT / "bench" / "results"


async def run(path: Path, server: EmbeddedMongo) -> dict[str, Any]:
    client, database = await init_database(server.uri, "import_real")
    try:
        started = time.perf_counter()
        report = await import_songs(path)
        imported = time.perf_counter() - started
        stored = {
            name: [doc async for doc in database[name].find({}, batch_size=1000)]
            for name in ("artists", "songs")
        }
        raw = client.get_database("import_raw", write_concern=WRITE_CONCERN)
        await raw["songs"].create_index("track_id", unique=True)  # the one index an import keeps
        started = time.perf_counter()
        for name, docs in stored.items():
            for start in range(0, len(docs), CHUNK_ROWS):
                await raw[name].insert_many(docs[start : start + CHUNK_ROWS], ordered=False)
        inserted = time.perf_counter() - started
    finally:
        await client.close()
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "rows": report.rows,
        "songs": len(stored["songs"]),
        "artists": len(stored["artists"]),
        "import_seconds": round(imported, 2),
        "raw_insert_many_seconds": round(inserted, 2),
        "ratio": round(imported / inserted, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path, nargs="?", default=None)
    parser.add_argument("--output", type=Path, default=RESULTS / "import_overhead.json")
    args = parser.parse_args()
    path = args.file or Settings(_env_file=None).default_catalog_file  # type: ignore[call-arg]
    with tempfile.TemporaryDirectory() as tmp, EmbeddedMongo(Path(tmp)) as server:
        result = asyncio.run(run(path.resolve(), server))
    text = json.dumps(result, indent=2)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
