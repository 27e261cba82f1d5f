"""Online metrics: every served list gets an id; what a listener then does with it is counted.

Serving a list never waits on the database: the list is queued and written by a background
flusher a few milliseconds later, many lists per `insert_many` (a crash loses at most that
last instant of impressions, which is fine for metrics and keeps reads off the database).
A play, like, skip or dislike of a song counts for the newest list served to that listener
in the last 30 minutes that holds it (or for the list the client names), at most once per
song, list and kind. Lists live in MongoDB, so an interaction arriving at another worker or
after a restart still finds its list; a TTL index keeps only the last half hour of them.

Counts are kept per UTC day (of serving), list kind and source, as `$inc` upserts on one
small document each; rates are counts over impressions.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import PyMongoError

from madhur_gql.documents import InteractionKind, ListDayStats, ListKind, ServedList
from madhur_gql.documents.served_list import ATTRIBUTION_MINUTES
from madhur_gql.errors import BadUserInput

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 0.05  # how long a served list waits to share its write with others
MAX_PENDING = 10_000  # lists queued while the database is away; older ones are dropped
MAX_BACKGROUND = 1000  # attributions in flight before a write waits for its own
TOTALS_SECONDS = 5.0  # /metrics reads the database at most this often
MAX_DAYS = 366
OUTCOMES = {
    InteractionKind.PLAY: "plays",
    InteractionKind.LIKE: "likes",
    InteractionKind.SKIP: "skips",
    InteractionKind.DISLIKE: "dislikes",
}
COUNTS = ("impressions", "plays", "likes", "skips", "dislikes")


@dataclass(frozen=True, slots=True)
class ListCounts:
    day: str
    kind: ListKind
    source: str
    impressions: int
    plays: int
    likes: int
    skips: int
    dislikes: int

    def as_counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}

    def rate(self, count: int) -> float:
        return round(count / self.impressions, 4) if self.impressions else 0.0


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def _stats_key(day: str, kind: str, source: str) -> str:
    return f"{day}|{kind}|{source}"


class ServedLists:
    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[bool]] = set()
        self._totals: tuple[float, list[ListCounts]] | None = None
        self.dropped = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="served-lists")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.gather(*self._background, return_exceptions=True)
        try:
            await self.flush()
        except PyMongoError as error:
            log.warning("served lists lost at shutdown", lists=len(self._pending), error=str(error))

    def serve(self, user_id: str | None, kind: ListKind, items: Sequence[tuple[str, str]]) -> str:
        """A new list id for these (song id, source) items; queued for the database if personal.

        Lists shown to nobody in particular (anonymous `similarSongs`) get an id too, but
        cannot be attributed, so they are not stored and do not count as impressions.
        """
        list_id = ObjectId()
        if user_id is None or not items:
            return str(list_id)
        if len(self._pending) >= MAX_PENDING:
            self._pending.pop(0)
            self.dropped += 1
        self._pending.append(
            {
                "_id": list_id,
                "user_id": ObjectId(user_id),
                "kind": kind.value,
                "song_ids": [ObjectId(song_id) for song_id, _ in items],
                "sources": [source for _, source in items],
                "counted": [],
                "created_at": datetime.now(UTC),
            }
        )
        self._wake.set()
        return str(list_id)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(FLUSH_SECONDS)
            self._wake.clear()
            try:
                await self.flush()
            except PyMongoError as error:  # kept queued (bounded) and tried again
                log.warning("served lists not stored yet", error=str(error))
                await asyncio.sleep(1.0)
                self._wake.set()

    async def flush(self) -> None:
        """Write the queued lists and their impressions; one insert and one bulk update."""
        async with self._flush_lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                await ServedList.get_pymongo_collection().insert_many(batch, ordered=False)
            except PyMongoError:
                self._pending[:0] = batch[-MAX_PENDING:]
                raise
            impressions: Counter[tuple[str, str, str]] = Counter()
            for doc in batch:
                for source in doc["sources"]:
                    impressions[(_day(doc["created_at"]), doc["kind"], source)] += 1
            await _increment({key: {"impressions": n} for key, n in impressions.items()})

    async def attribute_soon(
        self,
        user_id: PydanticObjectId,
        song_id: PydanticObjectId,
        kind: InteractionKind,
        at: datetime,
        list_id: str | None = None,
    ) -> None:
        """Attribute in the background, so the listener's write is acknowledged at once.

        Past MAX_BACKGROUND attributions in flight (the database is slow), the write waits
        for its own: backpressure instead of an unbounded pile of tasks.
        """
        if kind not in OUTCOMES:
            return
        if len(self._background) >= MAX_BACKGROUND:
            await self.attribute(user_id, song_id, kind, at, list_id)
            return
        task = asyncio.create_task(self.attribute(user_id, song_id, kind, at, list_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def attribute(
        self,
        user_id: PydanticObjectId,
        song_id: PydanticObjectId,
        kind: InteractionKind,
        at: datetime,
        list_id: str | None = None,
    ) -> bool:
        """Count the interaction for the list it came from; False when none (or counted)."""
        field = OUTCOMES.get(kind)
        if field is None:
            return False
        try:
            await self.flush()  # a list served here a moment ago is found too
            query: dict[str, Any] = {
                "user_id": user_id,
                "song_ids": song_id,
                "created_at": {"$gte": at - timedelta(minutes=ATTRIBUTION_MINUTES)},
            }
            if list_id is not None and ObjectId.is_valid(list_id):
                query["_id"] = ObjectId(list_id)
            mark = f"{song_id}:{kind.value}"
            before = await ServedList.get_pymongo_collection().find_one_and_update(
                query,
                {"$addToSet": {"counted": mark}},
                sort=[("created_at", -1)],
                projection={"song_ids": 1, "sources": 1, "kind": 1, "created_at": 1, "counted": 1},
                return_document=ReturnDocument.BEFORE,
            )
            if before is None or mark in before["counted"]:
                return False
            source = before["sources"][before["song_ids"].index(song_id)]
            key = (_day(before["created_at"].replace(tzinfo=UTC)), before["kind"], source)
            await _increment({key: {field: 1}})
            return True
        except PyMongoError as error:  # metrics must never fail a listener's write
            log.warning("interaction not attributed", error=str(error))
            return False

    async def daily(self, days: int) -> list[ListCounts]:
        """Counts for the last `days` UTC days (today included), newest day first."""
        if not 1 <= days <= MAX_DAYS:
            raise BadUserInput(f"'days' must be between 1 and {MAX_DAYS}.", field="days")
        since = (datetime.now(UTC).date() - timedelta(days=days - 1)).isoformat()
        cursor = ListDayStats.get_pymongo_collection().find({"day": {"$gte": since}})
        rows = [_counts(doc) async for doc in cursor]
        return sorted(
            rows, key=lambda r: (date.fromisoformat(r.day), r.kind, r.source), reverse=True
        )

    def cached_totals(self) -> list[ListCounts]:
        """What the last `totals()` read (empty before the first)."""
        return self._totals[1] if self._totals is not None else []

    async def totals(self) -> list[ListCounts]:
        """All-time counts per list kind and source (for /metrics), cached a few seconds.

        While the database is away the last figures stay (a scrape must not fail for it).
        """
        now = time.monotonic()
        if self._totals is not None and now - self._totals[0] < TOTALS_SECONDS:
            return self._totals[1]
        try:
            totals = await self._read_totals()
        except PyMongoError as error:
            log.warning("online metrics not refreshed", error=str(error))
            return self.cached_totals()
        self._totals = (now, totals)
        return totals

    async def _read_totals(self) -> list[ListCounts]:
        pipeline = [
            {
                "$group": {
                    "_id": {"kind": "$kind", "source": "$source"},
                    **{name: {"$sum": f"${name}"} for name in COUNTS},
                }
            }
        ]
        cursor = await ListDayStats.get_pymongo_collection().aggregate(pipeline)
        return [
            _counts({**doc, "day": "", "kind": doc["_id"]["kind"], "source": doc["_id"]["source"]})
            async for doc in cursor
        ]


def _counts(doc: dict[str, Any]) -> ListCounts:
    return ListCounts(
        day=doc["day"],
        kind=ListKind(doc["kind"]),
        source=doc["source"],
        **{name: int(doc.get(name) or 0) for name in COUNTS},
    )


async def _increment(changes: dict[tuple[str, str, str], dict[str, int]]) -> None:
    if not changes:
        return
    operations = [
        UpdateOne(
            {"_id": _stats_key(day, kind, source)},
            {"$inc": counts, "$setOnInsert": {"day": day, "kind": kind, "source": source}},
            upsert=True,
        )
        for (day, kind, source), counts in changes.items()
    ]
    await ListDayStats.get_pymongo_collection().bulk_write(operations, ordered=False)
