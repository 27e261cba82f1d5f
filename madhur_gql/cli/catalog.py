"""`import-songs`: bulk import with a progress bar and a report of refused rows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from madhur_gql.cli.output import console
from madhur_gql.config import get_settings


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
    from madhur_gql.services.catalog.import_rows import ImportFileError
    from madhur_gql.services.catalog.importer import import_songs

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
