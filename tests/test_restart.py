"""`madhur-gql serve` with no MONGODB_URI runs its own database, and data survives a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from madhur_gql.db.embedded import free_port
from tests.conftest import SAMPLE_CATALOG, TEST_SECRET

COMMAND = [str(Path(sys.executable).parent / "madhur-gql"), "serve"]


class ServeProcess:
    def __init__(self, data_dir: Path, jwt_secret: str | None = TEST_SECRET) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MADHUR_", "MONGODB_"))}
        env.update(
            MADHUR_PORT=str(self.port),
            MADHUR_DATA_DIR=str(data_dir),
            MADHUR_CATALOG_FILE=str(SAMPLE_CATALOG),
            MADHUR_BCRYPT_ROUNDS="4",
            MADHUR_LOG_JSON="true",
        )
        if jwt_secret is not None:
            env["MADHUR_JWT_SECRET"] = jwt_secret
        self.log = data_dir.parent / f"serve-{self.port}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(COMMAND, env=env, stdout=log, stderr=log)

    def wait_healthy(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not healthy:\n{self.log.read_text()}")

    def graphql(self, query: str, token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(f"{self.url}/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict = response.json()
        assert not body.get("errors"), body
        return body["data"]

    def stop(self) -> None:
        """SIGTERM, as a process manager sends it: the server drains and shuts down cleanly."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(30)
        # uvicorn re-raises the signal after a graceful shutdown, so -SIGTERM is a clean exit.
        assert code in (0, -signal.SIGTERM), self.log.read_text()
        assert "Application shutdown complete" in self.log.read_text()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "madhur-data"
    yield path


def embedded_server_alive(data_dir: Path) -> bool:
    result = subprocess.run(
        ["pgrep", "-f", f"--storage-path {data_dir}/db"], capture_output=True, check=False
    )
    return result.returncode == 0


def test_data_survives_a_restart_and_the_catalog_is_imported_once(data_dir: Path) -> None:
    first = ServeProcess(data_dir)
    try:
        first.wait_healthy()
        songs = first.graphql("{ songs(first: 1) { totalCount edges { node { id } } } }")["songs"]
        registered = first.graphql(
            'mutation { register(input: {email: "keep@example.com", password: "a long passphrase",'
            ' displayName: "Keep"}) { accessToken } }'
        )["register"]
        song_id = songs["edges"][0]["node"]["id"]
        like = f'recordInteraction(input: {{songId: "{song_id}", kind: LIKE}}) {{ id }}'
        first.graphql(f"mutation {{ {like} }}", registered["accessToken"])
    finally:
        first.stop()
    assert not embedded_server_alive(data_dir), "the embedded database stops with the API"
    assert "demo catalog imported" in first.log.read_text()

    second = ServeProcess(data_dir)
    try:
        second.wait_healthy()
        again = second.graphql("{ songs(first: 1) { totalCount } }")["songs"]
        assert again["totalCount"] == songs["totalCount"]
        login = second.graphql(
            'mutation { login(email: "keep@example.com", password: "a long passphrase")'
            " { accessToken } }"
        )["login"]
        history = second.graphql(
            "{ myHistory { totalCount edges { node { kind song { id } } } } }",
            login["accessToken"],
        )["myHistory"]
        assert history["totalCount"] == 1
        assert history["edges"][0]["node"] == {"kind": "LIKE", "song": {"id": song_id}}
    finally:
        second.stop()
    assert "demo catalog imported" not in second.log.read_text()


def test_the_start_up_log_says_each_thing_once(data_dir: Path) -> None:
    """No key set: one warning (not one from the command and one from the app), and the
    database the command started is not reported as "another process"'s."""
    server = ServeProcess(data_dir, jwt_secret=None)
    try:
        server.wait_healthy()
        token = server.graphql(
            'mutation { register(input: {email: "once@example.com", password: "a long passphrase",'
            ' displayName: "Once"}) { accessToken } }'
        )["register"]["accessToken"]
        assert server.graphql("{ me { email } }", token)["me"]["email"] == "once@example.com"
    finally:
        server.stop()
    log = server.log.read_text()
    assert log.count("MADHUR_JWT_SECRET is not set") == 1, log
    assert "another process" not in log
    assert log.count("embedded database started") == 1
