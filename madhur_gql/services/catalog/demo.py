"""The demo catalog a first start imports, so a new install has songs to browse.

The import runs beside the server, not before it: a first start answers within seconds while
the songs arrive chunk by chunk (see README, "The first start").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from madhur_gql.config import Settings
from madhur_gql.documents import Song

if TYPE_CHECKING:
    from pymongo.asynchronous.collection import AsyncCollection

    from madhur_gql.services.catalog.importer import ImportReport

log = structlog.get_logger(__name__)


class StoredSongs(Protocol):
    def __call__(self, docs: Sequence[dict[str, Any]], /) -> None: ...


STATE_COLLECTION = "madhur_state"
DEMO_MARK = {"_id": "demo_catalog"}


def _state() -> AsyncCollection[dict[str, Any]]:
    return Song.get_pymongo_collection().database[STATE_COLLECTION]


async def demo_catalog_wanted(settings: Settings) -> bool:
    """An empty database, or a first start's import that never finished (the process was
    killed midway): this start imports the demo catalog, or the rest of it. Songs already
    stored are merged, not doubled (the importer's unique track id)."""
    if not settings.import_catalog_on_start:
        return False
    if await Song.get_pymongo_collection().estimated_document_count() == 0:
        return True
    mark = await _state().find_one(DEMO_MARK)
    return mark is not None and mark.get("state") == "importing"


async def import_demo_catalog(settings: Settings, on_stored: StoredSongs | None = None) -> None:
    """Import the demo catalog; `on_stored` gets each chunk's songs once they are stored."""
    # Loaded here, in a thread: the importer brings pandas, a good part of a later start's
    # import time, and seconds of it on this loop would hold the first requests.
    import_songs = await asyncio.to_thread(_load_importer)
    path = settings.default_catalog_file
    log.info("empty catalog: importing the demo catalog while serving", file=str(path))
    started = time.perf_counter()
    done = 0

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        log.info("importing songs", rows=done)

    await _state().update_one(DEMO_MARK, {"$set": {"state": "importing"}}, upsert=True)
    report = await import_songs(path, on_progress=progress, on_stored=on_stored)
    await _state().update_one(DEMO_MARK, {"$set": {"state": "imported"}})
    log.info(
        "demo catalog imported",
        songs=report.inserted,
        rows=report.rows,
        rejected=len(report.rejected),
        seconds=round(time.perf_counter() - started, 1),
    )


def _load_importer() -> Callable[..., Awaitable[ImportReport]]:
    from madhur_gql.services.catalog.importer import import_songs

    return import_songs


def start_demo_import(settings: Settings, on_stored: StoredSongs) -> asyncio.Task[None]:
    """The import as a task of the serving loop; a failure is logged, the server stays up."""

    async def run() -> None:
        try:
            await import_demo_catalog(settings, on_stored)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the demo catalog import failed; the next start resumes it")

    return asyncio.create_task(run(), name="demo-import")
