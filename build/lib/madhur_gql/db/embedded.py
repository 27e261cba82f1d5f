"""Run SecantusDB as a child process so that the app only ever sees a MongoDB URI.

SecantusDB is GPL-licensed: it is started as a separate program (`secantusd-py`) and spoken
to over the MongoDB wire protocol, never imported.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog
from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = structlog.get_logger(__name__)

SERVER_COMMAND = "secantusd-py"
STATE_FILE = "server.json"


class EmbeddedServerError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_executable() -> str:
    """Prefer the launcher next to our interpreter (the venv), then PATH."""
    beside = Path(sys.executable).parent / SERVER_COMMAND
    if beside.exists():
        return str(beside)
    found = shutil.which(SERVER_COMMAND)
    if found is None:
        raise EmbeddedServerError(
            f"{SERVER_COMMAND} not found: install the 'secantusdb' package or set MONGODB_URI"
        )
    return found


class EmbeddedMongo:
    """A SecantusDB server on a free loopback port, data kept in `storage_path`."""

    def __init__(
        self,
        storage_path: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        cache_size: str = "256M",
        startup_timeout: float = 30.0,
        sync_on_commit: bool = True,
    ) -> None:
        self.storage_path = storage_path
        self.host = host
        self.port = port or free_port(host)
        self.cache_size = cache_size
        self.startup_timeout = startup_timeout
        self.sync_on_commit = (
            sync_on_commit  # fsync per commit: acknowledged writes survive a crash
        )
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> str:
        if self.running:
            return self.uri
        self.storage_path.mkdir(parents=True, exist_ok=True)
        log_path = self.storage_path / "secantusd.log"
        command = [
            server_executable(),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage_path / "db"),
            "--cache-size",
            self.cache_size,
            "--log-level",
            "WARNING",
            *(["--sync-on-commit"] if self.sync_on_commit else []),
        ]
        with log_path.open("ab") as log_file:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it cleanly
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self._wait_until_ready(log_path)
        self._state_file.write_text(json.dumps({"uri": self.uri, "pid": self._process.pid}))
        log.info("embedded database started", uri=self.uri, pid=self._process.pid)
        return self.uri

    @property
    def _state_file(self) -> Path:
        return self.storage_path / STATE_FILE

    def _wait_until_ready(self, log_path: Path) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise EmbeddedServerError(f"{SERVER_COMMAND} exited early:\n{tail}")
            try:
                with MongoClient[dict[str, Any]](self.uri, serverSelectionTimeoutMS=300) as client:
                    client.admin.command("ping")
                return
            except PyMongoError:
                time.sleep(0.1)
        self.stop()
        raise EmbeddedServerError(f"{SERVER_COMMAND} did not answer within {self.startup_timeout}s")

    def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        self._state_file.unlink(missing_ok=True)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # lets WiredTiger checkpoint and close
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.info("embedded database stopped")

    def kill(self) -> None:
        """Hard stop, as a crash would: for fault tests."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> EmbeddedMongo:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def running_server_uri(storage_path: Path) -> str | None:
    """The URI of an embedded server already serving `storage_path` (e.g. `make run`'s), if any.

    WiredTiger opens a data directory once, so a second process (the import CLI) must talk to
    the running server rather than start its own.
    """
    try:
        state = json.loads((storage_path / STATE_FILE).read_text())
        os.kill(int(state["pid"]), 0)
        uri = str(state["uri"])
        with MongoClient[dict[str, Any]](uri, serverSelectionTimeoutMS=500) as client:
            client.admin.command("ping")
    except (OSError, ValueError, KeyError, PyMongoError):
        return None
    return uri
