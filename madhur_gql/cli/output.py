"""Where the commands write: progress and tables to stderr, so stdout stays for data."""

from __future__ import annotations

from rich.console import Console

console = Console(stderr=True)
