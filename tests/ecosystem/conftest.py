"""Helpers for tests that drive the API with the ecosystem's own tools (Node, Chromium, codegen).

The tools are installed by `make install` / `make test`; a missing Node toolchain fails the
test with the command that installs it, so a broken install never passes as a skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


async def run(*args: str, cwd: Path = WEB, timeout: float = 90, **env: str) -> Completed:
    """Run a command without blocking the event loop the live server shares with the test."""
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return Completed(process.returncode or 0, stdout.decode(), stderr.decode())


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with web/node_modules installed."""
    binary = shutil.which("node")
    if binary is None or not (WEB / "node_modules" / ".package-lock.json").exists():
        pytest.fail("Node tools missing: run `make install` (npm ci in web/)")
    return binary
