"""Group commit: concurrent small writes share one database commit, so they share its fsync.

Every write is journaled (the client's write concern is `w: majority, j: true`), and a
journaled commit costs an fsync. One request's interaction, like and counter update would
cost three or four of them, one after another, and sixteen concurrent requests would queue
behind each other's. Instead, writes are queued here and flushed together by one task: the
writes that arrive while a flush is running (or within `window` seconds of the first) form
the next batch, which becomes one `insert_many` per collection and one `$inc` per counter
field and delta. Callers await their own write's outcome, which is known only once the batch
is acknowledged, so an answer never runs ahead of the database.

Order is kept where it matters: consecutive inserts (or deletes) of one collection run as one
group and groups run in arrival order, so an unlike after a like in one batch still unlikes.
Counter increments run after the writes they depend on (a like counts only when its insert was
not a duplicate), and the new values are read back in one bounded query. Last come the
follow-up inserts (a like's history entry), stored in the same flush only for the writes that
changed something: a like costs one flush, not two in a row.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, PyMongoError

log = structlog.get_logger(__name__)

DUPLICATE_KEY = 11000
DEFAULT_WINDOW_SECONDS = 0.002
DEFAULT_MAX_BATCH = 500


@dataclass(frozen=True)
class Increment:
    """Add `delta` to `field` of the document `_id` in `collection`."""

    collection: str
    id: Any
    field: str
    delta: int = 1


@dataclass
class _Write:
    kind: str  # "insert" | "delete" | "increment"
    collection: str
    document: Mapping[str, Any]  # the document to insert, or the delete filter
    then: Increment | None  # applied only when the write changed something
    done: asyncio.Future[Any] = field(repr=False)
    follow: tuple[str, Mapping[str, Any]] | None = None  # (collection, document), likewise


class GroupCommit:
    """The one writer of batched writes for a database; `start` it inside the event loop."""

    def __init__(
        self,
        database: AsyncDatabase[Any],
        *,
        window: float = DEFAULT_WINDOW_SECONDS,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self.database = database
        self.window = window
        self.max_batch = max_batch
        self._queue: list[_Write] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.writes = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        """Flush what is queued, then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        while self._queue:
            await self._flush(self._take())
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def insert(
        self,
        collection: str,
        document: Mapping[str, Any],
        then: Increment | None = None,
        follow: tuple[str, Mapping[str, Any]] | None = None,
    ) -> bool | int | None:
        """Insert `document` (its `_id` set by the caller).

        Without `then`: True when stored, False when a unique index already held it. With
        `then`: the counter's new value after a stored insert, None after a duplicate.
        `follow` (a collection and a document) is inserted in the same flush when this one
        was stored.
        """
        result: bool | int | None = await self._submit("insert", collection, document, then, follow)
        return result

    async def delete_one(
        self,
        collection: str,
        query: Mapping[str, Any],
        then: Increment | None = None,
        follow: tuple[str, Mapping[str, Any]] | None = None,
    ) -> bool | int | None:
        """Delete one document matching `query`; like `insert`, True/False or the counter,
        and `follow` inserted when a document was deleted."""
        result: bool | int | None = await self._submit("delete", collection, query, then, follow)
        return result

    async def increment(self, increment: Increment) -> int | None:
        """The field's new value, or None when there is no such document."""
        result: int | None = await self._submit("increment", increment.collection, {}, increment)
        return result

    async def _submit(
        self,
        kind: str,
        collection: str,
        document: Mapping[str, Any],
        then: Increment | None,
        follow: tuple[str, Mapping[str, Any]] | None = None,
    ) -> Any:
        if self._task is None:
            raise RuntimeError("GroupCommit is not started")
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Write(kind, collection, document, then, done, follow))
        self._wake.set()
        return await done

    def _take(self) -> list[_Write]:
        batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        if not self._queue:
            self._wake.clear()
        return batch

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if self.window and len(self._queue) < self.max_batch:
                await asyncio.sleep(self.window)
            await self._flush(self._take())

    async def _flush(self, batch: list[_Write]) -> None:
        if not batch:
            return
        self.batches += 1
        self.writes += len(batch)
        try:
            outcomes = await self._write(batch)
        except PyMongoError as error:
            for write in batch:
                if not write.done.done():
                    write.done.set_exception(error)
            return
        except Exception as error:  # pragma: no cover - a bug: fail the callers, keep the writer
            log.exception("group commit failed")
            for write in batch:
                if not write.done.done():
                    write.done.set_exception(error)
            return
        for write, outcome in zip(batch, outcomes, strict=True):
            if write.done.done():
                continue
            if isinstance(outcome, BaseException):
                write.done.set_exception(outcome)
            else:
                write.done.set_result(outcome)

    async def _write(self, batch: list[_Write]) -> list[Any]:
        outcomes: list[Any] = [None] * len(batch)
        changed: list[bool] = [False] * len(batch)
        positions = list(range(len(batch)))
        groups = itertools.groupby(
            (i for i in positions if batch[i].kind != "increment"),
            key=lambda i: (batch[i].kind, batch[i].collection),
        )
        for (kind, collection), members in groups:
            indices = list(members)
            if kind == "insert":
                results = await self._insert_many(collection, [batch[i].document for i in indices])
            else:
                results = await self._delete_each(collection, [batch[i] for i in indices])
            for i, result in zip(indices, results, strict=True):
                changed[i] = result is True
                outcomes[i] = None if batch[i].then is not None and not changed[i] else result
        increments = [
            (i, write.then)
            for i, write in enumerate(batch)
            if write.then is not None and (write.kind == "increment" or changed[i])
        ]
        values = await self._increment(inc for _, inc in increments)
        for i, inc in increments:
            outcomes[i] = values.get((inc.collection, inc.id, inc.field))
        await self._follow_ups(batch, changed, outcomes)
        return outcomes

    async def _follow_ups(
        self, batch: list[_Write], changed: list[bool], outcomes: list[Any]
    ) -> None:
        """The follow-up inserts of the writes that changed something, per collection."""
        by_collection: dict[str, list[tuple[int, Mapping[str, Any]]]] = defaultdict(list)
        for i, write in enumerate(batch):
            if write.follow is not None and changed[i]:
                collection, document = write.follow
                by_collection[collection].append((i, document))
        for collection, members in by_collection.items():
            try:
                results: list[Any] = await self._insert_many(collection, [d for _, d in members])
            except PyMongoError as error:  # the writes before stood: only these callers fail
                results = [error] * len(members)
            for (i, _), result in zip(members, results, strict=True):
                if result is not True:  # the write stood, its follow-up did not: say so
                    outcomes[i] = (
                        result
                        if isinstance(result, BaseException)
                        else PyMongoError(f"a follow-up insert into {collection} was refused")
                    )

    async def _insert_many(self, collection: str, documents: list[Mapping[str, Any]]) -> list[Any]:
        """True per stored document, False per duplicate, the error for anything else."""
        results: list[Any] = [True] * len(documents)
        try:
            await self.database[collection].insert_many([dict(d) for d in documents], ordered=False)
        except BulkWriteError as error:
            if error.details.get("writeConcernErrors"):
                raise
            for failure in error.details.get("writeErrors", []):
                index = int(failure["index"])
                if failure.get("code") == DUPLICATE_KEY:
                    results[index] = False
                else:
                    results[index] = PyMongoError(str(failure.get("errmsg")))
        return results

    async def _delete_each(self, collection: str, writes: list[_Write]) -> list[Any]:
        """Deletes are rare (unlikes): each its own statement, run concurrently."""
        coll = self.database[collection]
        done = await asyncio.gather(*(coll.delete_one(dict(w.document)) for w in writes))
        return [result.deleted_count > 0 for result in done]

    async def _increment(self, increments: Any) -> dict[tuple[str, Any, str], int]:
        """One `$inc` per collection, field and delta; the new values read back by `_id`."""
        totals: dict[tuple[str, Any, str], int] = defaultdict(int)
        for inc in increments:
            totals[(inc.collection, inc.id, inc.field)] += inc.delta
        if not totals:
            return {}
        by_delta: dict[tuple[str, str, int], list[Any]] = defaultdict(list)
        for (collection, doc_id, name), delta in totals.items():
            if delta:
                by_delta[(collection, name, delta)].append(doc_id)
        for (collection, name, delta), ids in by_delta.items():
            await self.database[collection].update_many(
                {"_id": {"$in": ids}}, {"$inc": {name: delta}}
            )
        values: dict[tuple[str, Any, str], int] = {}
        wanted: dict[str, set[Any]] = defaultdict(set)
        fields: dict[str, set[str]] = defaultdict(set)
        for collection, doc_id, name in totals:
            wanted[collection].add(doc_id)
            fields[collection].add(name)
        for collection, members in wanted.items():
            projection = dict.fromkeys(fields[collection], 1)
            query = {"_id": {"$in": list(members)}}  # at most max_batch ids
            cursor = self.database[collection].find(query, projection)
            async for doc in cursor:
                for name in fields[collection]:
                    if (collection, doc["_id"], name) in totals and name in doc:
                        values[(collection, doc["_id"], name)] = int(doc[name])
        return values
