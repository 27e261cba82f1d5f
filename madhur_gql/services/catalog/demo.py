"""The demo catalog a first start imports, so a new install has songs to browse."""

from __future__ import annotations

import time

import structlog

from madhur_gql.config import Settings

log = structlog.get_logger(__name__)


async def import_demo_catalog(settings: Settings) -> None:
    """Into an empty database only (and when the settings allow): a first start has songs."""
    # Imported here: the importer brings pandas, a good part of a later start's import time.
    from madhur_gql.services.catalog.importer import catalog_is_empty, import_songs

    if not settings.import_catalog_on_start or not await catalog_is_empty():
        return
    path = settings.default_catalog_file
    log.info("empty catalog: importing the demo catalog", file=str(path))
    started = time.perf_counter()
    done = 0

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        log.info("importing songs", rows=done)

    report = await import_songs(path, on_progress=progress)
    log.info(
        "demo catalog imported",
        songs=report.inserted,
        rows=report.rows,
        rejected=len(report.rejected),
        seconds=round(time.perf_counter() - started, 1),
    )
