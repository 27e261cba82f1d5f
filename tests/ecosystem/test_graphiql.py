"""GraphiQL works offline: its assets come from the app, and a real browser runs a query."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from madhur_gql.http.graphiql import ASSET_PREFIX, VENDORED_ASSETS, GraphiQLPage
from tests.conftest import GraphQLClient, LiveServer, register_user
from tests.ecosystem.conftest import ARTIFACTS, run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SONGS_AND_ME = (
    '{ me { displayName } songs(first: 3, search: "sheeran") '
    "{ totalCount edges { node { title artist } } } }"
)


def test_the_vendored_assets_are_the_ones_the_page_pins() -> None:
    # Fails after a Strawberry upgrade that pins other versions: run `make assets`.
    assert GraphiQLPage.discover().offline


async def test_the_page_opens_on_the_madhur_starter_document(live_server: LiveServer) -> None:
    html = await page(live_server)
    assert "Welcome to Madhur" in html and "Welcome to GraphiQL" not in html
    assert '{"Authorization": "Bearer <accessToken>"}' in html
    for operation in ("mutation Login", "query Recommendations", "query Songs"):
        assert operation in html


async def page(live_server: LiveServer) -> str:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    return response.text


async def test_page_loads_every_asset_from_the_app(live_server: LiveServer) -> None:
    html = await page(live_server)
    assert "unpkg.com" not in html
    paths = [line.split('"')[1] for line in html.splitlines() if f'"{ASSET_PREFIX}/' in line]
    assert len(paths) == 7  # react, react-dom, js-cookie, graphiql js+css, explorer js+css
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        for path in paths:
            asset = await http.get(path)
            assert asset.status_code == 200, path
            assert asset.headers["content-type"].split(";")[0] in ("text/css", "text/javascript")
            assert "immutable" in asset.headers["cache-control"]


async def test_only_the_pages_assets_are_served(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        for path in ("graphiql@3.8.3/package.json", "graphql-http@1.0.0/lib/index.js", "../x"):
            assert (await http.get(f"{ASSET_PREFIX}/{path}")).status_code == 404


def test_without_installed_assets_the_cdn_page_is_served(tmp_path: Path) -> None:
    fallback = GraphiQLPage.discover(tmp_path)
    assert not fallback.offline
    assert "https://unpkg.com/graphiql@" in fallback.html
    assert fallback.routes()  # and /graphiql-assets/ answers 404 to everything


def test_an_asset_at_another_version_means_the_cdn_page(tmp_path: Path) -> None:
    modules = tmp_path / "node_modules"
    shutil.copytree(VENDORED_ASSETS, modules)
    (modules / "react" / "package.json").write_text('{"version": "18.3.1"}')
    assert not GraphiQLPage.discover(modules).offline


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Chromium is not installed (`make chromium` installs Debian's package with apt-get)",
)
async def test_a_browser_sets_the_token_runs_a_query_and_sees_songs(
    live_server: LiveServer, client: GraphQLClient, node: str
) -> None:
    session = await register_user(client)
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "graphiql.png"
    screenshot.unlink(missing_ok=True)
    done = await run(
        node,
        "scripts/graphiql-browser.mjs",
        live_server.url,
        str(screenshot),
        session["accessToken"],
        SONGS_AND_ME,
        CHROMIUM_PATH=CHROMIUM,
    )
    assert done.returncode == 0, done.stderr
    seen = done.json()
    assert seen["initialQuery"].startswith("# Welcome to Madhur")
    assert seen["outside"] == []  # nothing fetched from a CDN
    assert len(seen["assets"]) == 7
    assert seen["pageErrors"] == []
    assert seen["introspectionErrors"] == []  # autocomplete and docs have the schema
    assert seen["schemaTypes"] > 20
    data = seen["result"]["data"]
    assert data["me"]["displayName"] == session["user"]["displayName"]  # the header was sent
    assert data["songs"]["totalCount"] > 3
    assert all(edge["node"]["artist"] == "Ed Sheeran" for edge in data["songs"]["edges"])
    assert screenshot.stat().st_size > 20_000
