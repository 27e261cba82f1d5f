"""The `madhur-gql` command: serve the API, import songs, export the schema."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from madhur_gql.config import get_settings
from madhur_gql.log_config import configure_logging

app = typer.Typer(
    help="Madhur: a GraphQL music API with hybrid recommendations.", no_args_is_help=True
)
console = Console(stderr=True)


@app.callback()
def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides MADHUR_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides MADHUR_PORT.")] = None,
    workers: Annotated[int | None, typer.Option(help="Overrides MADHUR_WORKERS.")] = None,
) -> None:
    """Serve the API (GraphiQL at /graphql); starts the embedded database when no MONGODB_URI.

    The embedded database belongs to this command, not to a worker, so that several workers
    share one database and it stops only after all of them have drained.
    """
    from madhur_gql.db.embedded import EmbeddedMongo, running_server_uri

    settings = get_settings()
    with contextlib.ExitStack() as stack:
        if settings.mongodb_uri is None:
            storage = settings.data_dir.resolve()
            uri = running_server_uri(storage)
            if uri is None:
                embedded = EmbeddedMongo(storage, sync_on_commit=settings.db_sync_on_commit)
                stack.enter_context(embedded)
                uri = embedded.uri
            os.environ["MONGODB_URI"] = uri
        if settings.jwt_secret_generated:
            # One key for every worker of this run; still gone after a restart.
            os.environ["MADHUR_JWT_SECRET"] = settings.jwt_secret
            console.print("[yellow]MADHUR_JWT_SECRET is not set: using a random key for this run")
        # uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown: turn that into an exit
        # that unwinds this stack, so the embedded database is stopped too.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _exit_cleanly)
        uvicorn.run(
            "madhur_gql.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port if port is not None else settings.port,
            workers=workers or settings.workers,
            log_level=settings.log_level.lower(),
            timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
            access_log=False,
        )


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


@app.command("export-schema")
def export_schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")] = None,
) -> None:
    """Print (or write) the schema in GraphQL SDL."""
    from madhur_gql.graphql.schema import export_sdl

    sdl = export_sdl()
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)
        console.print(f"wrote {output}")


@app.command()
def evaluate(
    train: Annotated[Path | None, typer.Option(help="TSV: user_id item_id weight.")] = None,
    test: Annotated[Path | None, typer.Option(help="TSV in the same layout.")] = None,
    interactions: Annotated[
        Path | None,
        typer.Option(help="One TSV, split with the protocol (instead of --train/--test)."),
    ] = None,
    item_features: Annotated[
        Path | None, typer.Option(help="CSV: item_id plus numeric feature columns.")
    ] = None,
    k: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    model: Annotated[
        list[str] | None, typer.Option(help="Models to score (repeatable); default: all.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Score Madhur's recommender and a popularity baseline on held-out interactions.

    Full-catalog ranking of every item a test user has not met in train; precision, recall,
    ndcg, hit rate and coverage at k, as in the evaluation protocol.
    """
    from madhur_gql.recommender.evaluation import (
        run_evaluation,
        run_evaluation_on_interactions,
        table_rows,
    )

    if interactions is not None and (train or test):
        raise typer.BadParameter("give --interactions, or --train and --test, not both")
    try:
        if interactions is not None:
            report = run_evaluation_on_interactions(interactions, item_features, k, model)
        elif train is not None and test is not None:
            report = run_evaluation(train, test, item_features, k, model)
        else:
            raise typer.BadParameter("give --train and --test, or --interactions")
    except (OSError, KeyError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    if as_json:
        sys.stdout.write(json.dumps({"models": report["models"]}) + "\n")
        return
    header, rows = table_rows(report)
    table = Table(
        title=f"{report['n_test_users']} test users, {report['n_items']} items, top {report['k']}"
    )
    for column in header:
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=max(Console().width, 110)).print(table)  # headers intact in logs and pipes


@app.command("import-songs")
def import_songs_command(
    file: Annotated[
        Path, typer.Argument(help="CSV, CSV.gz or Parquet in the spotify_songs layout.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count only.")] = False,
    update: Annotated[bool, typer.Option("--update", help="Overwrite existing songs.")] = False,
    layout: Annotated[
        str, typer.Option(help="Column layout: spotify_songs (default) or kaggle.")
    ] = "spotify_songs",
) -> None:
    """Import songs, upserting by Spotify track id; bad rows are reported, never fatal.

    Interrupting (Ctrl-C) stops between writes: every song written is complete, and running
    the same import again finishes the job without duplicates.
    """
    from madhur_gql.db.connection import open_database
    from madhur_gql.services.catalog_import import ImportFileError, import_songs

    async def run() -> None:
        async with open_database(get_settings()):
            with Progress(
                TextColumn("[bold]importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rows"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[rate]}"),
                console=console,
            ) as progress:
                task = progress.add_task("import", total=None, rate="")

                def advance(rows: int) -> None:
                    progress.advance(task, rows)
                    elapsed = progress.tasks[task].elapsed or 1e-9
                    progress.update(
                        task, rate=f"{progress.tasks[task].completed / elapsed:,.0f} rows/s"
                    )

                report = await import_songs(
                    file, update=update, dry_run=dry_run, layout=layout, on_progress=advance
                )
        table = Table(title="dry run: nothing written" if dry_run else "import finished")
        for column in ("rows", "inserted", "updated", "skipped", "rejected"):
            table.add_column(column, justify="right")
        table.add_row(
            *(str(v) for v in (report.rows, report.inserted, report.updated, report.skipped)),
            str(len(report.rejected)),
        )
        console.print(table)
        for row in report.rejected[:200]:
            console.print(f"  line {row.line} ({row.track_id or 'no id'}): {row.reason}")
        if len(report.rejected) > 200:
            console.print(f"  ... and {len(report.rejected) - 200} more")

    try:
        asyncio.run(run())
    except ImportFileError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    except KeyboardInterrupt as interrupt:
        console.print(
            "[yellow]interrupted:[/yellow] the songs written so far are complete; "
            "run the same import again to finish"
        )
        raise typer.Exit(130) from interrupt


@app.command()
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
    from madhur_gql.spotify.cli import enrich_command

    enrich_command(console, all_songs=all_songs, missing=missing, limit=limit)


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The administrator's email address.")],
    display_name: Annotated[str, typer.Option(help="Shown in the app.")] = "Administrator",
) -> None:
    """Create an administrator account.

    The password comes from MADHUR_ADMIN_PASSWORD or a hidden prompt (asked twice), never
    from an argument: arguments end up in shell history and in `ps` output.
    """
    from madhur_gql.db.connection import open_database
    from madhur_gql.documents import Role
    from madhur_gql.errors import MadhurError
    from madhur_gql.services.accounts import AccountService

    password = os.environ.get("MADHUR_ADMIN_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    settings = get_settings()

    async def run() -> str:
        async with open_database(settings):
            user = await AccountService(settings).create_user(
                email, password, display_name, role=Role.ADMIN
            )
            return str(user.id)

    try:
        user_id = asyncio.run(run())
    except MadhurError as error:
        console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(1) from error
    console.print(f"created administrator {email.strip().lower()} ({user_id})")
