"""`madhur-gql enrich`: the checks, progress bar and summary around a bulk enrichment."""

from __future__ import annotations

import asyncio
from typing import Annotated

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

from madhur_gql.cli.output import console
from madhur_gql.config import get_settings
from madhur_gql.documents.spotify import SpotifyTrackInfo
from madhur_gql.domain.spotify import FetchStatus
from madhur_gql.integrations.spotify.client import SpotifyClient, SpotifyCredentialsRejected
from madhur_gql.services.spotify.batch import EnrichReport, enrich_songs


def enrich_command(out: Console, *, all_songs: bool, missing: bool, limit: int | None) -> None:
    """What `madhur-gql enrich` runs: checks, a progress bar, a summary table."""
    from madhur_gql.db.connection import open_database

    if all_songs and missing:
        out.print("[red]error:[/red] choose --all or --missing, not both")
        raise typer.Exit(2)
    settings = get_settings()
    if not settings.spotify_client_id or settings.spotify_client_secret is None:
        out.print(
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
                console=out,
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
        out.print(f"[red]error:[/red] Spotify rejected the client credentials ({error})")
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
    out.print(table)


def enrich(
    all_songs: Annotated[
        bool, typer.Option("--all", help="Fetch every song again, even fresh ones.")
    ] = False,
    missing: Annotated[
        bool, typer.Option("--missing", help="Only songs never fetched or due (the default).")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many songs.")] = None,
) -> None:
    """Fetch album covers, Spotify links and previews into the cache (needs SPOTIFY_*)."""
    enrich_command(console, all_songs=all_songs, missing=missing, limit=limit)
