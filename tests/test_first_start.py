"""A first start serves at once: the demo catalog imports beside the server, not before it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pandas as pd

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from tests.conftest import SAMPLE_CATALOG, GraphQLClient, LiveServer, make_settings, register_user

COPIES = 12  # about 12,000 rows: several chunks, seconds of writes on any machine
COUNT = "{ songs(first: 1) { totalCount } }"
POPULAR = "{ recommendations(first: 3) { source song { id } } }"


def bigger_catalog(path: Path) -> int:
    """The sample catalog repeated with fresh track ids; returns its number of songs."""
    sample = pd.read_csv(SAMPLE_CATALOG, dtype={"track_id": "string"})
    copies = []
    for copy in range(COPIES):
        frame = sample.copy()
        frame["track_id"] = frame["track_id"].str.slice(0, 18) + f"c{copy:04d}"
        copies.append(frame)
    catalog = pd.concat(copies, ignore_index=True)
    catalog.to_csv(path, index=False)
    return int(catalog["track_id"].nunique())


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[LiveServer, GraphQLClient]]:
    """The app started on `settings`, not waiting for /readyz (a first start imports)."""
    server = LiveServer(settings)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            yield server, GraphQLClient(http)
    finally:
        await server.stop()


def first_start(mongo_server: EmbeddedMongo, tmp_path: Path, database: str) -> tuple[Settings, int]:
    """Settings of an empty database whose demo catalog is the bigger one, and its song count."""
    songs = bigger_catalog(tmp_path / "catalog.csv")
    catalog = str(tmp_path / "catalog.csv")
    return make_settings(mongo_server.uri, database, MADHUR_CATALOG_FILE=catalog), songs


async def count(client: GraphQLClient) -> int:
    total: int = (await client.data(COUNT))["songs"]["totalCount"]
    return total


async def test_a_first_start_answers_while_the_demo_catalog_imports(
    mongo_server: EmbeddedMongo, tmp_path: Path
) -> None:
    settings, songs = first_start(mongo_server, tmp_path, "t_first_start")
    async with serving(settings) as (server, client):
        first = await count(client)
        ready = await client.http.get("/readyz")
        client.token = (await register_user(client))["accessToken"]
        picks = await client.data(POPULAR)
        assert first < songs, "served before the import ended"
        assert ready.status_code == 503
        assert ready.json() == {"status": "importing the demo catalog"}
        # Recommendations answer too, from the popular fallback, without waiting.
        assert {p["source"] for p in picks["recommendations"]} <= {"POPULAR"}

        await server.wait_ready(timeout=300)
        assert await count(client) == songs
        built = await client.data(POPULAR)
        assert len(built["recommendations"]) == 3


async def test_a_first_start_stopped_mid_import_is_finished_by_the_next_start(
    mongo_server: EmbeddedMongo, tmp_path: Path
) -> None:
    """Stopped (or killed) while the demo catalog imports: the next start imports the rest,
    and no song is stored twice."""
    settings, songs = first_start(mongo_server, tmp_path, "t_resumed_import")
    async with serving(settings) as (_, client):
        deadline = asyncio.get_running_loop().time() + 120
        while await count(client) == 0:
            assert asyncio.get_running_loop().time() < deadline, "no song ever stored"
            await asyncio.sleep(0.05)
    async with serving(settings) as (server, client):
        partial = await count(client)
        assert 0 < partial < songs, "the first start stopped mid-import"
        await server.wait_ready(timeout=300)
        assert await count(client) == songs
    async with serving(settings) as (_, client):  # finished: a later start imports nothing more
        ready = await client.http.get("/readyz")
        assert ready.json() != {"status": "importing the demo catalog"}
        assert await count(client) == songs
