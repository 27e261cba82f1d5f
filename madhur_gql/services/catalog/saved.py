"""The read model saved at shutdown, so that a later start loads it instead of every song.

Saved with the position of the songs change stream it reflects. A start that loads it resumes
the stream there and applies every change made since, by anyone (other workers, imports,
admin edits, counters), before it serves: the consistency contract holds as after a full
read. When the stream cannot resume there (the oplog no longer reaches back, another server)
or the file was written by code with another layout, it is ignored and the songs are read
afresh. The file is a pickle the API process itself wrote into its own data directory, next
to the database's files; nothing else is trusted to write there.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from madhur_gql.services.catalog.index import CatalogIndex
from madhur_gql.services.catalog.store import NUMBERS, SHARED, TEXT, TIMES, SongStore

log = structlog.get_logger(__name__)

FORMAT = 3  # bump when what is saved changes meaning (3: the index as columns)


def layout() -> tuple[Any, ...]:
    """What a saved file's records look like; a file with another layout is not loaded."""
    columns = (TEXT, SHARED, NUMBERS, TIMES)
    return (FORMAT, columns, tuple(sorted(CatalogIndex().saved_state())))


@dataclass(frozen=True, slots=True)
class SavedReadModel:
    resume_token: Mapping[str, Any]  # the songs change stream's position the state reflects
    index: CatalogIndex
    store: SongStore


def save(
    path: Path, resume_token: Mapping[str, Any], index: CatalogIndex, store: SongStore
) -> None:
    """Atomically (a temporary file renamed): a crash mid-write leaves the previous file."""
    state = {
        "layout": layout(),
        "resume_token": dict(resume_token),
        "index": index.saved_state(),
        "store": store.saved_state(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as out:
        pickle.dump(state, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(out.name, path)
    log.info("read model saved", songs=len(index), file=str(path))


def load(path: Path) -> SavedReadModel | None:
    """The saved read model, or None (no file, another layout, unreadable)."""
    try:
        with path.open("rb") as saved:
            state = pickle.load(saved)  # noqa: S301 - written by this app into its data dir
        if state.get("layout") != layout():
            log.info("saved read model has another layout: reading the songs", file=str(path))
            return None
        index = CatalogIndex.from_saved(state["index"])
        return SavedReadModel(state["resume_token"], index, SongStore.from_saved(state["store"]))
    except FileNotFoundError:
        return None
    except Exception as error:  # a torn or foreign file: the database still has everything
        log.warning("saved read model unreadable: reading the songs", error=str(error))
        return None


def discard(path: Path) -> None:
    path.unlink(missing_ok=True)
