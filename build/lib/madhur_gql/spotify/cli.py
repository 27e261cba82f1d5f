"""`madhur-gql enrich`: fill the Spotify cache in bulk, at the configured request rate.

The background worker only enriches songs people look at; this fills the rest ahead of time.
It uses the same client (rate limit, 429/5xx policy) and the same cache entries.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from madhur_gql.config import Settings, get_settings
from madhur_gql.documents import Song
from madhur_gql.documents.common import utcnow
from madhur_gql.spotify.client import SpotifyClient, SpotifyCredentialsRejected
from madhur_gql.spotify.documents import FetchStatus, SpotifyTrackInfo
from madhur_gql.spotify.enrich import Enricher


@dataclass
class EnrichReport:
    selected: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # FetchStatus value or "skipped"
    requests: Counter[str] = field(default_factory=Counter)  # "token" / "api"
    seconds: float = 0.0

    @property
    def requests_per_song(self) -> float:
        done = sum(self.outcomes.values())
        return self.requests["api"] / done if done else 0.0


async def select_songs(*, refetch: bool, limit: int | None) -> list[str]:
    """Track ids to enrich: every song (`refetch`), or those without a fresh cache entry.

    Two projections over whole collections: fine for a batch command, never for a request.
    """
    cursor = Song.get_pymongo_collection().find({}, {"track_id": 1, "_id": 0})
    keys = [doc["track_id"] async for doc in cursor]
    if not refetch:
        fresh_cursor = SpotifyTrackInfo.get_pymongo_collection().find(
            {"refresh_at": {"$gt": utcnow()}}, {"_id": 1}
        )
        fresh = {doc["_id"] async for doc in fresh_cursor}
        keys = [key for key in keys if key not in fresh]
    return keys[:limit] if limit is not None else keys


async def enrich_songs(
    settings: Settings,
    *,
    refetch: bool = False,
    limit: int | None = None,
    on_selected: Callable[[int], None] | None = None,
    on_done: Callable[[SpotifyTrackInfo | None, EnrichReport], None] | None = None,
    client: SpotifyClient | None = None,
) -> EnrichReport:
    """Enrich the selected songs with `SPOTIFY_WORKERS` concurrent fetches; needs Beanie."""
    client = client or SpotifyClient(settings)
    enricher = Enricher(client, settings)
    keys = await select_songs(refetch=refetch, limit=limit)
    report = EnrichReport(selected=len(keys), requests=client.requests)
    if on_selected:
        on_selected(len(keys))
    pending = iter(keys)
    started = time.perf_counter()

    async def work() -> None:
        for key in pending:  # shared iterator: each key goes to exactly one worker
            entry = await enricher.enrich(key, force=refetch)
            report.outcomes[entry.status.value if entry else "skipped"] += 1
            if on_done:
                on_done(entry, report)

    workers = [asyncio.create_task(work()) for _ in range(settings.spotify_workers)]
    try:
        await asyncio.gather(*workers)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        report.seconds = time.perf_counter() - started
    return report


def enrich_command(console: Console, *, all_songs: bool, missing: bool, limit: int | None) -> None:
    """What `madhur-gql enrich` runs: checks, a progress bar, a summary table."""
    from madhur_gql.db.connection import open_database

    if all_songs and missing:
        console.print("[red]error:[/red] choose --all or --missing, not both")
        raise typer.Exit(2)
    settings = get_settings()
    if not settings.spotify_client_id or settings.spotify_client_secret is None:
        console.print(
            "[red]error:[/red] set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET "
            "(an app at https://developer.spotify.com/dashboard)"
        )
        raise typer.Exit(2)

    async def run() -> EnrichReport:
        client = SpotifyClient(settings)
        async with open_database(settings):
            with Progress(
                TextColumn("[bold]enriching"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("songs"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
                console=console,
            ) as progress:
                task = progress.add_task("enrich", total=None, status="selecting songs")

                def done(entry: SpotifyTrackInfo | None, report: EnrichReport) -> None:
                    paused = client.limiter.paused_for
                    status = (
                        f"ok {report.outcomes[FetchStatus.OK.value]} · "
                        f"errors {report.outcomes[FetchStatus.ERROR.value]} · "
                        f"{report.requests['api']} requests"
                    )
                    if paused:
                        status += f" · Spotify asked us to wait {paused:.0f} s"
                    progress.update(task, advance=1, status=status)

                return await enrich_songs(
                    settings,
                    refetch=all_songs,
                    limit=limit,
                    client=client,
                    on_selected=lambda n: progress.update(task, total=n, status=""),
                    on_done=done,
                )

    try:
        report = asyncio.run(run())
    except SpotifyCredentialsRejected as error:
        console.print(f"[red]error:[/red] Spotify rejected the client credentials ({error})")
        raise typer.Exit(1) from error
    table = Table(title=f"enrichment finished in {report.seconds:.0f} s")
    columns = ("selected", "ok", "not found", "ambiguous", "errors", "requests", "per song")
    for column in columns:
        table.add_column(column, justify="right")
    outcomes = report.outcomes
    table.add_row(
        str(report.selected),
        str(outcomes[FetchStatus.OK.value]),
        str(outcomes[FetchStatus.NOT_FOUND.value]),
        str(outcomes[FetchStatus.AMBIGUOUS.value]),
        str(outcomes[FetchStatus.ERROR.value]),
        str(report.requests["api"] + report.requests["token"]),
        f"{report.requests_per_song:.2f}",
    )
    console.print(table)
