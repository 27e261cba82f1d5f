"""Shared fixtures: one embedded SecantusDB server per session, a fresh database per module.

Tests talk to the server over the MongoDB wire protocol and to the API over real HTTP.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from madhur_gql.app import create_app
from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo, free_port
from madhur_gql.http.server import server_options
from madhur_gql.log_config import configure_logging

DATA = Path(__file__).parent / "data"
SAMPLE_CATALOG = DATA / "songs_sample.csv"
TEST_SECRET = "test-secret-" + "x" * 40

configure_logging("WARNING", json_logs=False)


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedMongo]:
    server = EmbeddedMongo(tmp_path_factory.mktemp("secantus"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def database_name(request: pytest.FixtureRequest) -> str:
    module = re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1])
    return f"t_{module}_{uuid.uuid4().hex[:8]}"


def make_settings(uri: str, database: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "MONGODB_URI": uri,
        "MADHUR_DB_NAME": database,
        "MADHUR_CATALOG_FILE": str(SAMPLE_CATALOG),
        "MADHUR_BCRYPT_ROUNDS": 4,
        "MADHUR_JWT_SECRET": TEST_SECRET,
        # Every test registers from 127.0.0.1; the throttle's own tests set it low again.
        "MADHUR_REGISTER_MAX_PER_ADDRESS": 100_000,
        "MADHUR_CLIENT_COST_BUDGET": 10_000_000,  # one client (127.0.0.1) runs every test
        # Test accounts are minutes old: they count fully in shared lists unless a test
        # (test_manipulation) asks for the production standing rules.
        "MADHUR_ESTABLISHED_ACCOUNT_DAYS": 0,
        "MADHUR_ESTABLISHED_MIN_SONGS": 0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def settings(mongo_server: EmbeddedMongo, database_name: str) -> Settings:
    return make_settings(mongo_server.uri, database_name)


class LiveServer:
    """The real app under uvicorn on a loopback port, in the test's event loop."""

    def __init__(self, settings: Settings, **app_options: Any) -> None:
        self.settings = settings
        self.app = create_app(settings, **app_options)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            **server_options(settings),  # as `madhur-gql serve` runs it
        )
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def wait_ready(self, timeout: float = 240) -> None:
        """Until /readyz: a first start imports the catalog and builds while it serves."""
        # A probe loop with its own deadline: one slow answer (a loaded CI host) is not failure.
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            deadline = asyncio.get_running_loop().time() + timeout
            while (await client.get("/readyz")).status_code != 200:
                assert asyncio.get_running_loop().time() < deadline, "recommender never ready"
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


@asynccontextmanager
async def another_server(
    settings: Settings, *, ready: bool = True, **overrides: Any
) -> AsyncIterator[LiveServer]:
    """One more app on the module's database with some settings changed (MADHUR_... names)."""
    server = LiveServer(
        make_settings(settings.mongodb_uri or "", settings.database_name, **overrides)
    )
    await server.start()
    try:
        if ready:
            await server.wait_ready()
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="module")
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    server = LiveServer(settings)
    await server.start()
    await server.wait_ready()
    yield server
    await server.stop()


class GraphQLClient:
    """A thin client: `execute` returns the whole response body (data and errors)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token: str | None = None

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {}
        bearer = token or self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code < 500, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.execute(query, variables, token=token)
        assert not body.get("errors"), body["errors"]
        result: dict[str, Any] = body["data"]
        return result


@pytest.fixture(scope="module")
async def client(live_server: LiveServer) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        yield GraphQLClient(http)


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken expiresIn user { id email displayName } }
}
"""


async def register_user(
    client: GraphQLClient, email: str | None = None, password: str = "correct horse battery"
) -> dict[str, Any]:
    email = email or f"listener-{uuid.uuid4().hex[:8]}@example.com"
    data = await client.data(
        REGISTER, {"input": {"email": email, "password": password, "displayName": "Asha"}}
    )
    payload: dict[str, Any] = data["register"]
    return payload


async def picks_of(
    client: GraphQLClient, query: str, token: str, **variables: Any
) -> list[dict[str, Any]]:
    """A `recommendations` query's picks (variables default to first: 20)."""
    data = await client.data(query, {"first": 20, **variables}, token=token)
    picks: list[dict[str, Any]] = data["recommendations"]
    return picks


UPDATE_ME = "mutation($i: UpdateMeInput!) { updateMe(input: $i) { id } }"


async def new_listener(client: GraphQLClient, **profile: Any) -> str:
    """A fresh account's access token; `profile` (favouriteGenres=[...]) set by updateMe."""
    token: str = (await register_user(client))["accessToken"]
    if profile:
        await client.data(UPDATE_ME, {"i": profile}, token=token)
    return token
