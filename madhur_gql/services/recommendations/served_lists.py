"""Online metrics: every served list gets an id; what a listener then does with it is counted.

Serving a list never waits on the database: the list is kept in this process's memory
(`recent_lists.py`, bounded per listener and in all) and queued for a background flusher
that writes it within half a second, many lists per `insert_many`, with one point update
per listener of its heads (its newest lists' ids). A crash loses at most that last half
second of impressions, which is fine for metrics and keeps reads off the database. (Every
50 ms, as before, a busy worker sent four or five metric writes for each list served: the
embedded database's busiest work under bench/load.py, and the listeners' own writes queued
behind it.)

A play, like, skip or dislike of a song counts for the newest list served to that listener
in the last 30 minutes that holds it (or for the list the client names), at most once per
song, list and kind, among the listener's newest RECENT_LISTS lists. Memory answers for the
lists this process served; when it holds none with the song (a list served by another
worker, or before a restart), the listener's heads are read by `_id` and the lists they name
by `_id`: point lookups, bounded per listener, never a scan of the listener's lists (which
the embedded server answers in seconds once a client has been served thousands of them).

Metrics never make a listener wait: interactions are queued for attribution and, past
MAX_ATTRIBUTIONS queued, the oldest are dropped and counted (`dropped_attributions`, on
/metrics as `madhur_online_metrics_dropped_total`), as are lists past MAX_PENDING.

Counts are kept per UTC day (of serving), list kind and source, as `$inc` upserts on one
small document each; rates are counts over impressions.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import UpdateOne
from pymongo.errors import PyMongoError

from madhur_gql.documents import (
    InteractionKind,
    ListDayStats,
    ListKind,
    ServedList,
    ServedListHead,
)
from madhur_gql.documents.served_list import ATTRIBUTION_MINUTES, RECENT_LISTS
from madhur_gql.errors import BadUserInput
from madhur_gql.services.recommendations.recent_lists import RecentList, RecentLists

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 0.5  # how long a served list waits to share its write with others
MAX_PENDING = 10_000  # lists queued while the database is away; older ones are dropped
MAX_ATTRIBUTIONS = 5000  # queued attributions; older ones are dropped, never waited for
ATTRIBUTION_BATCH = 500  # interactions attributed per round
MAX_FETCHED_LISTS = 1000  # lists one round may read by `_id` (other workers' lists)
TOTALS_SECONDS = 5.0  # /metrics reads the database at most this often
DROP_LOG_SECONDS = 10.0  # a warning about drops at most this often
MAX_DAYS = 366
WINDOW = timedelta(minutes=ATTRIBUTION_MINUTES)
OUTCOMES = {
    InteractionKind.PLAY: "plays",
    InteractionKind.LIKE: "likes",
    InteractionKind.SKIP: "skips",
    InteractionKind.DISLIKE: "dislikes",
}
COUNTS = ("impressions", "plays", "likes", "skips", "dislikes")
LIST_FIELDS = {"user_id": 1, "song_ids": 1, "sources": 1, "kind": 1, "created_at": 1, "counted": 1}


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


@dataclass(frozen=True, slots=True)
class Attribution:
    """An interaction waiting to be counted for the list it came from."""

    user_id: ObjectId
    song_id: ObjectId
    kind: InteractionKind
    at: datetime
    list_id: ObjectId | None  # the list the client named, if any

    @property
    def mark(self) -> str:
        return f"{self.song_id}:{self.kind.value}"


@dataclass(frozen=True, slots=True)
class _Claim:
    position: int  # in the batch
    entry: RecentList
    mark: str  # "<song id>:<kind>"
    since: datetime  # the list counts only if stored as served after this
    key: tuple[str, str, str]  # (day, list kind, source) of the counts it moves
    field: str


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def _stats_key(day: str, kind: str, source: str) -> str:
    return f"{day}|{kind}|{source}"


class ServedLists:
    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._unstored: set[ObjectId] = set()  # lists in memory not yet in the database
        self._wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._attributions: deque[Attribution] = deque()
        self._waiting: list[Attribution] = []  # for a list not stored yet
        self._totals: tuple[float, list[ListCounts]] | None = None
        self.recent = RecentLists()
        self.dropped = 0  # lists never stored (the database was away too long)
        self.dropped_attributions = 0  # interactions never attributed (attribution behind)
        self._drop_logged = 0.0

    def drops(self) -> dict[str, int]:
        return {"lists": self.dropped, "attributions": self.dropped_attributions}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="served-lists")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self.flush()
        except PyMongoError as error:
            log.warning("served lists lost at shutdown", lists=len(self._pending), error=str(error))

    def serve(
        self,
        user_id: str | None,
        kind: ListKind,
        items: Sequence[tuple[ObjectId | str | None, str]],
    ) -> str:
        """A new list id for these (song id, source) items; kept and queued if personal.

        Lists shown to nobody in particular (anonymous `similarSongs`) get an id too, but
        cannot be attributed, so they are not stored and do not count as impressions. A list
        re-served from the answer cache gets its own id and is stored too: a client may name
        either in `recordInteraction`, and each was an impression.
        """
        list_id = ObjectId()
        if user_id is None or not items:
            return str(list_id)
        if len(self._pending) >= MAX_PENDING:
            self._unstored.discard(self._pending.pop(0)["_id"])
            self.dropped += 1
            self._log_drops()
        doc = {
            "_id": list_id,
            "user_id": ObjectId(user_id),
            "kind": kind.value,
            "song_ids": [ObjectId(song_id) for song_id, _ in items],
            "sources": [source for _, source in items],
            "counted": [],
            "created_at": datetime.now(UTC),
        }
        self._pending.append(doc)
        self._unstored.add(list_id)
        self.recent.add(RecentList.of(doc))
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
        """Write the queued lists and their impressions, then attribute the queued interactions
        (a list served a moment ago is stored first); a few statements per round, not per write."""
        await self._flush_lists()
        self._attributions.extendleft(reversed(self._waiting))  # their lists are stored now
        self._waiting.clear()
        while self._attributions:
            async with self._flush_lock:
                count = min(ATTRIBUTION_BATCH, len(self._attributions))
                batch = [self._attributions.popleft() for _ in range(count)]
                await self.attribute_many(batch)
        if self._waiting:  # the next round, once their lists are written
            self._wake.set()

    async def _flush_lists(self) -> None:
        async with self._flush_lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                await ServedList.get_pymongo_collection().insert_many(batch, ordered=False)
            except PyMongoError:
                kept = batch[-MAX_PENDING:]
                self._unstored.difference_update(doc["_id"] for doc in batch[: -len(kept)])
                self._pending[:0] = kept
                raise
            self._unstored.difference_update(doc["_id"] for doc in batch)
            try:  # before the impressions: once they show, another worker finds the lists
                await _push_heads(batch)
            except PyMongoError as error:  # only other workers' attribution misses them
                log.warning("served list heads not stored", lists=len(batch), error=str(error))
            impressions: Counter[tuple[str, str, str]] = Counter()
            for doc in batch:
                day, kind = _day(doc["created_at"]), doc["kind"]
                for source in doc["sources"]:
                    impressions[(day, kind, source)] += 1
            await _increment({key: {"impressions": n} for key, n in impressions.items()})

    def attribute_soon(
        self,
        user_id: PydanticObjectId,
        song_id: PydanticObjectId,
        kind: InteractionKind,
        at: datetime,
        list_id: str | None = None,
    ) -> None:
        """Queue the interaction for attribution; the listener's write never waits for it.

        The flusher attributes a whole batch from memory, with one bulk update of the lists
        it counts for. Past MAX_ATTRIBUTIONS queued (attribution fell behind), the oldest is
        dropped and counted rather than make the writer wait.
        """
        if kind not in OUTCOMES:
            return
        named = ObjectId(list_id) if list_id is not None and ObjectId.is_valid(list_id) else None
        if len(self._attributions) >= MAX_ATTRIBUTIONS:
            self.dropped_attributions += 1
            self._log_drops()
            if not self._attributions:
                return
            self._attributions.popleft()
        self._attributions.append(Attribution(user_id, song_id, kind, at, named))
        self._wake.set()

    def _log_drops(self) -> None:
        now = time.monotonic()
        if now - self._drop_logged >= DROP_LOG_SECONDS:
            self._drop_logged = now
            log.warning("online metrics dropped", **self.drops())

    async def attribute_many(self, batch: Sequence[Attribution]) -> list[bool]:
        """Count each interaction for the list it came from; False when none (or counted).

        Each counts for the newest list served to its listener in the last 30 minutes that
        holds the song (or the list it names), at most once per song, list and kind, across
        processes: the update only applies while the mark is absent, and when another process
        raced us to a mark, the claim stored beside it says whose it is. An interaction whose
        list is not stored yet waits for the next round.
        """
        if not batch:
            return []
        try:
            chosen = await self._choose_lists(batch)
            won = await self._claim(chosen)
        except PyMongoError as error:  # metrics must never fail a listener's write
            log.warning("interactions not attributed", count=len(batch), error=str(error))
            return [False] * len(batch)
        changes: dict[tuple[str, str, str], dict[str, int]] = {}
        outcome = [False] * len(batch)
        for position, (key, field) in won.items():
            counts = changes.setdefault(key, {})
            counts[field] = counts.get(field, 0) + 1
            outcome[position] = True
        try:
            await _increment(changes)
        except PyMongoError as error:
            log.warning("attributions not counted", count=len(won), error=str(error))
        return outcome

    async def _choose_lists(self, batch: Sequence[Attribution]) -> list[_Claim]:
        """Per interaction, the list it counts for: from memory, else through the heads."""
        found = [self.recent.choose(a.user_id, a.song_id, a.at, a.list_id) for a in batch]
        missing = [
            a
            for a, entry in zip(batch, found, strict=True)
            if entry is None and (a.list_id is None or a.list_id not in self.recent)
        ]
        if missing:
            await self._fetch_lists(missing)
            found = [
                entry or self.recent.choose(a.user_id, a.song_id, a.at, a.list_id)
                for a, entry in zip(batch, found, strict=True)
            ]
        claims: list[_Claim] = []
        taken: set[tuple[ObjectId, str]] = set()
        for position, (item, entry) in enumerate(zip(batch, found, strict=True)):
            if entry is None:
                continue
            if entry.id in self._unstored:  # served a moment ago: the next round claims it
                self._waiting.append(item)
                continue
            mark = item.mark
            if entry.is_counted(mark) or (entry.id, mark) in taken:
                continue
            taken.add((entry.id, mark))
            source = entry.source_of(item.song_id) or ""
            key = (_day(entry.created_at), entry.kind, source)
            claims.append(_Claim(position, entry, mark, item.at - WINDOW, key, OUTCOMES[item.kind]))
        return claims

    async def _fetch_lists(self, missing: Sequence[Attribution]) -> None:
        """Into memory, the lists other processes served these listeners (or named): the
        listeners' heads by `_id`, then the lists they name that memory lacks, by `_id`."""
        since = min(a.at for a in missing) - WINDOW
        users = list({a.user_id for a in missing})
        wanted = {a.list_id for a in missing if a.list_id is not None}
        heads = ServedListHead.get_pymongo_collection().find({"_id": {"$in": users}})
        async for head in heads:
            for list_id, served_at in head.get("lists") or ():
                served_at = served_at.replace(tzinfo=UTC) if served_at.tzinfo is None else served_at
                if served_at >= since:  # workers' pushes interleave: no early stop
                    wanted.add(list_id)
        wanted = {list_id for list_id in wanted if list_id not in self.recent}
        if not wanted:
            return
        ids = list(wanted)[:MAX_FETCHED_LISTS]
        cursor = ServedList.get_pymongo_collection().find({"_id": {"$in": ids}}, LIST_FIELDS)
        async for doc in cursor:
            self.recent.add(RecentList.of(doc))

    async def _claim(self, claims: list[_Claim]) -> dict[int, tuple[tuple[str, str, str], str]]:
        """Mark the chosen lists in one bulk write of point updates; the claims this process won.

        The update also asks that the stored list was served within the window (memory keeps
        when it was served here; the stored time is the one every process agrees on).
        """
        if not claims:
            return {}
        tickets = [ObjectId() for _ in claims]
        collection = ServedList.get_pymongo_collection()
        result = await collection.bulk_write(
            [
                UpdateOne(
                    {
                        "_id": claim.entry.id,
                        "counted": {"$ne": claim.mark},
                        "created_at": {"$gte": claim.since},
                    },
                    {
                        "$addToSet": {"counted": claim.mark},
                        "$set": {f"claims.{claim.mark}": ticket},
                    },
                )
                for claim, ticket in zip(claims, tickets, strict=True)
            ],
            ordered=False,
        )
        for claim in claims:  # counted now, by us or by another process: never asked again
            claim.entry.mark(claim.mark)
        won = {claim.position: (claim.key, claim.field) for claim in claims}
        if result.modified_count == len(claims):
            return won
        # Another process counted some of these first: the stored claims say which are ours.
        ids = list({claim.entry.id for claim in claims})
        stored = {
            doc["_id"]: doc.get("claims") or {}
            async for doc in collection.find({"_id": {"$in": ids}}, {"claims": 1})
        }
        for claim, ticket in zip(claims, tickets, strict=True):
            if stored.get(claim.entry.id, {}).get(claim.mark) != ticket:
                del won[claim.position]
        return won

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


async def _push_heads(batch: Sequence[dict[str, Any]]) -> None:
    """Each listener's newest list ids, one point upsert per listener (RECENT_LISTS kept)."""
    by_user: dict[ObjectId, list[list[Any]]] = {}
    for doc in batch:
        by_user.setdefault(doc["user_id"], []).append([doc["_id"], doc["created_at"]])
    now = datetime.now(UTC)
    operations = [
        UpdateOne(
            {"_id": user_id},
            {
                "$push": {"lists": {"$each": entries, "$slice": -RECENT_LISTS}},
                "$set": {"updated_at": now},
            },
            upsert=True,
        )
        for user_id, entries in by_user.items()
    ]
    await ServedListHead.get_pymongo_collection().bulk_write(operations, ordered=False)


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
