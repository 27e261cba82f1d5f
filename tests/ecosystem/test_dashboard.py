"""The operators' dashboard: admin-only data, off in production unless enabled, and a real
browser that loads it offline and sees the plots drawn."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from madhur_gql.app import create_app
from madhur_gql.config import Settings
from madhur_gql.documents import Role, User
from tests.conftest import GraphQLClient, LiveServer, make_settings, register_user
from tests.ecosystem.conftest import ARTIFACTS, run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DATA = "/admin/dashboard/data"


@pytest.fixture(scope="module")
def settings(mongo_server: Any, database_name: str) -> Settings:
    return make_settings(mongo_server.uri, database_name, MADHUR_DASHBOARD_SAMPLE_SECONDS=0.2)


async def admin_token(client: GraphQLClient) -> str:
    payload = await register_user(client)
    user = User.find_one(User.id == PydanticObjectId(payload["user"]["id"]))
    await user.set({User.role: Role.ADMIN})
    token: str = payload["accessToken"]
    return token


async def some_traffic(client: GraphQLClient) -> None:
    for _ in range(3):
        await client.data("query Browse { songs(first: 5) { totalCount } }")
        await client.data("query Genres { genres { name } }")
        await asyncio.sleep(0.25)


async def test_the_data_is_for_admins_only(live_server: LiveServer, client: GraphQLClient) -> None:
    listener = (await register_user(client))["accessToken"]
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        anonymous = await http.get(DATA)
        assert anonymous.status_code == 401
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        forbidden = await http.get(DATA, headers={"authorization": f"Bearer {listener}"})
        assert forbidden.status_code == 403
        assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_data_counts_operations_and_the_recommender(
    live_server: LiveServer, client: GraphQLClient
) -> None:
    token = await admin_token(client)
    await some_traffic(client)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        data = (await http.get(DATA, headers={"authorization": f"Bearer {token}"})).json()
    samples = data["samples"]
    assert len(samples) >= 3 and samples == sorted(samples, key=lambda s: s["time"])
    last = samples[-1]
    assert last["operations"]["Browse"]["count"] >= 3
    assert last["operations"]["Browse"]["seconds"] > 0
    assert last["recommender"]["items"] > 500  # the sample catalog's songs
    assert "build_seconds" in last["recommender"]


async def test_production_has_no_dashboard_unless_enabled(mongo_server: Any) -> None:
    # The app is only built, not started: its routes answer without a database.
    base = {"MADHUR_ENV": "production", "MADHUR_JWT_SECRET": "x" * 48}
    for overrides, status in (({}, 404), ({"MADHUR_DASHBOARD": "true"}, 200)):
        app = create_app(make_settings(mongo_server.uri, "unused", **base, **overrides))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://madhur") as http:
            assert (await http.get("/admin/dashboard/")).status_code == status


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Chromium is not installed (`make chromium` installs Debian's package with apt-get)",
)
async def test_a_browser_draws_every_plot_offline(
    live_server: LiveServer, client: GraphQLClient, node: str
) -> None:
    token = await admin_token(client)
    await some_traffic(client)
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "dashboard.png"
    screenshot.unlink(missing_ok=True)
    done = await run(
        node,
        "scripts/dashboard-browser.mjs",
        live_server.url,
        str(screenshot),
        token,
        CHROMIUM_PATH=CHROMIUM,
    )
    assert done.returncode == 0, done.stderr
    seen = done.json()
    assert seen["outside"] == [] and seen["pageErrors"] == []
    charts = seen["charts"]
    assert set(charts) == {"requests", "latency", "index", "build"}
    for name, chart in charts.items():
        assert chart["points"] >= 2, (name, chart)
        assert chart["painted"] > 2000, (name, chart)  # axes, grid and lines on the canvas
    assert {"Browse", "Genres"} <= set(charts["requests"]["legend"])
    assert screenshot.stat().st_size > 20_000
