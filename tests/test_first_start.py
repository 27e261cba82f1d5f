"""A first start serves at once: the demo catalog imports beside the server, not before it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pandas as pd

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


async def test_a_first_start_answers_while_the_demo_catalog_imports(
    mongo_server: EmbeddedMongo, tmp_path: Path
) -> None:
    songs = bigger_catalog(tmp_path / "catalog.csv")
    settings = make_settings(
        mongo_server.uri, "t_first_start", MADHUR_CATALOG_FILE=str(tmp_path / "catalog.csv")
    )
    server = LiveServer(settings)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            client = GraphQLClient(http)
            first = await client.data(COUNT)
            ready = await http.get("/readyz")
            client.token = (await register_user(client))["accessToken"]
            picks = await client.data(POPULAR)
            assert first["songs"]["totalCount"] < songs, "served before the import ended"
            assert ready.status_code == 503
            assert ready.json() == {"status": "importing the demo catalog"}
            # Recommendations answer too, from the popular fallback, without waiting.
            assert {p["source"] for p in picks["recommendations"]} <= {"POPULAR"}

            await server.wait_ready(timeout=300)
            after = await client.data(COUNT)
            assert after["songs"]["totalCount"] == songs
            built = await client.data(POPULAR)
            assert len(built["recommendations"]) == 3
    finally:
        await server.stop()


async def test_a_first_start_stopped_mid_import_is_finished_by_the_next_start(
    mongo_server: EmbeddedMongo, tmp_path: Path
) -> None:
    """Stopped (or killed) while the demo catalog imports: the next start imports the rest,
    and no song is stored twice."""
    songs = bigger_catalog(tmp_path / "catalog.csv")
    settings = make_settings(
        mongo_server.uri, "t_resumed_import", MADHUR_CATALOG_FILE=str(tmp_path / "catalog.csv")
    )
    first = LiveServer(settings)
    await first.start()
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
            client = GraphQLClient(http)
            deadline = asyncio.get_running_loop().time() + 120
            while (await client.data(COUNT))["songs"]["totalCount"] == 0:
                assert asyncio.get_running_loop().time() < deadline, "no song ever stored"
                await asyncio.sleep(0.05)
    finally:
        await first.stop()
    second = LiveServer(settings)
    await second.start()
    try:
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
            client = GraphQLClient(http)
            partial = (await client.data(COUNT))["songs"]["totalCount"]
            assert 0 < partial < songs, "the first start stopped mid-import"
            await second.wait_ready(timeout=300)
            assert (await client.data(COUNT))["songs"]["totalCount"] == songs
    finally:
        await second.stop()
    third = LiveServer(settings)  # finished: a later start imports nothing more
    await third.start()
    try:
        async with httpx.AsyncClient(base_url=third.url, timeout=30) as http:
            assert (await http.get("/readyz")).json() != {"status": "importing the demo catalog"}
            assert (await GraphQLClient(http).data(COUNT))["songs"]["totalCount"] == songs
    finally:
        await third.stop()
