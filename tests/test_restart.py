"""`madhur-gql serve` with no MONGODB_URI runs its own database, and data survives a restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from madhur_gql.db.embedded import EmbeddedMongo, free_port
from tests.conftest import SAMPLE_CATALOG, TEST_SECRET

COMMAND = [str(Path(sys.executable).parent / "madhur-gql"), "serve"]


class ServeProcess:
    def __init__(
        self, data_dir: Path, jwt_secret: str | None = TEST_SECRET, workers: int = 1
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MADHUR_", "MONGODB_"))}
        env.update(
            MADHUR_PORT=str(self.port),
            MADHUR_DATA_DIR=str(data_dir),
            MADHUR_CATALOG_FILE=str(SAMPLE_CATALOG),
            MADHUR_BCRYPT_ROUNDS="4",
            MADHUR_LOG_JSON="true",
            MADHUR_WORKERS=str(workers),
        )
        if jwt_secret is not None:
            env["MADHUR_JWT_SECRET"] = jwt_secret
        self.log = data_dir.parent / f"serve-{self.port}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(COMMAND, env=env, stdout=log, stderr=log)

    def wait_healthy(self, timeout: float = 240, probe: str = "/healthz") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}{probe}", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not {probe}:\n{self.log.read_text()}")

    def wait_ready(self, timeout: float = 240) -> None:
        """Until /readyz: on a first start, the demo catalog is imported (it serves before)."""
        self.wait_healthy(timeout, probe="/readyz")

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
        first.wait_ready()
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
    assert (data_dir / "read-model.pickle").exists(), "the read model is saved at shutdown"
    # While the API is down, another program renames the song: the next start must show it.
    with (
        EmbeddedMongo(data_dir.resolve()) as database,
        MongoClient[dict[str, Any]](database.uri) as mongo,
    ):
        mongo["madhur"]["songs"].update_one(
            {"_id": ObjectId(song_id)},
            {"$set": {"title": "Renamed Meanwhile", "title_lc": "renamed meanwhile"}},
        )

    second = ServeProcess(data_dir)
    try:
        second.wait_ready()
        again = second.graphql("{ songs(first: 1) { totalCount } }")["songs"]
        assert again["totalCount"] == songs["totalCount"]
        renamed = second.graphql(f'{{ song(id: "{song_id}") {{ title }} }}')["song"]
        assert renamed == {"title": "Renamed Meanwhile"}
        found = second.graphql('{ songs(first: 5, search: "renamed meanwhile") { totalCount } }')
        assert found["songs"]["totalCount"] == 1
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
    assert "read model loaded" in second.log.read_text(), "the later start used the saved model"


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


def _workers(parent: int) -> list[int]:
    """The worker processes of `serve`: its children that are not the database."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"spawn_main" in command:
            found.append(int(entry.name))
    return sorted(found)


def _connections_held(pid: int, port: int) -> int:
    """Established TCP connections to `port` that process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            held += 1
    return held


def _burst(port: int, count: int) -> list[socket.socket]:
    """`count` keep-alive connections opened at once, each answered once."""
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    for sock in sockets:
        sock.sendall(request)
    for sock in sockets:
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    return sockets


def test_two_workers_share_a_burst_of_connections_and_a_dead_one_is_replaced(
    data_dir: Path,
) -> None:
    """A client's pool of connections, opened at once, is served by both workers (uvicorn's
    shared socket gave nearly all of them to whichever woke first); a worker killed is
    replaced and the port keeps answering; SIGTERM stops everything cleanly."""
    server = ServeProcess(data_dir, workers=2)
    try:
        server.wait_healthy()
        deadline = time.monotonic() + 60
        while len(_workers(server.process.pid)) < 2 or not _both_listening(server.port):
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.2)
        workers = _workers(server.process.pid)
        pool = _burst(server.port, 32)
        held = [_connections_held(pid, server.port) for pid in workers]
        assert sum(held) == 32 and min(held) >= 4, held
        for sock in pool:
            sock.close()

        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 120
        while workers[0] in _workers(server.process.pid) or not _both_listening(server.port):
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.2)
        for _ in range(20):  # new connections, hashed over both sockets: all answered
            assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
    assert "worker died; starting another" in server.log.read_text()


def _both_listening(port: int) -> bool:
    listening = [
        line
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if int(line.split()[1].split(":")[1], 16) == port and line.split()[3] == "0A"
    ]
    return len(listening) == 2
