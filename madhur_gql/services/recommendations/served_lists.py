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
from pymongo import UpdateOne
from pymongo.errors import PyMongoError

from madhur_gql.documents import InteractionKind, ListDayStats, ListKind, ServedList
from madhur_gql.documents.served_list import ATTRIBUTION_MINUTES
from madhur_gql.errors import BadUserInput

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 0.05  # how long a served list waits to share its write with others
MAX_PENDING = 10_000  # lists queued while the database is away; older ones are dropped
MAX_ATTRIBUTIONS = 5000  # queued attributions before a write waits for the queue
ATTRIBUTION_BATCH = 500  # interactions attributed by one query
MAX_CANDIDATE_LISTS = 10_000  # lists one batch's query may read
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


@dataclass(frozen=True, slots=True)
class Attribution:
    """An interaction waiting to be counted for the list it came from."""

    user_id: ObjectId
    song_id: ObjectId
    kind: InteractionKind
    at: datetime
    list_id: ObjectId | None  # the list the client named, if any


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: ObjectId
    kind: str
    created_at: datetime
    sources: dict[ObjectId, str]  # song -> the source that listed it (its first place)
    counted: frozenset[str]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> _Candidate:
        sources: dict[ObjectId, str] = {}
        for song, source in zip(doc["song_ids"], doc["sources"], strict=False):
            sources.setdefault(song, source)
        created = doc["created_at"]
        created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
        return cls(doc["_id"], doc["kind"], created, sources, frozenset(doc.get("counted") or ()))


@dataclass(frozen=True, slots=True)
class _Claim:
    position: int  # in the batch
    list_id: ObjectId
    mark: str  # "<song id>:<kind>"
    key: tuple[str, str, str]  # (day, list kind, source) of the counts it moves
    field: str


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
        self._attributions: list[Attribution] = []
        self._totals: tuple[float, list[ListCounts]] | None = None
        self.dropped = 0

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
        """Write the queued lists and their impressions, then attribute the queued interactions
        (a list served a moment ago is found); a few statements per batch, not per write."""
        await self._flush_lists()
        while self._attributions:
            async with self._flush_lock:
                batch = self._attributions[:ATTRIBUTION_BATCH]
                del self._attributions[:ATTRIBUTION_BATCH]
                await self.attribute_many(batch)

    async def _flush_lists(self) -> None:
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
                day, kind = _day(doc["created_at"]), doc["kind"]
                for source in doc["sources"]:
                    impressions[(day, kind, source)] += 1
            await _increment({key: {"impressions": n} for key, n in impressions.items()})

    async def attribute_soon(
        self,
        user_id: PydanticObjectId,
        song_id: PydanticObjectId,
        kind: InteractionKind,
        at: datetime,
        list_id: str | None = None,
    ) -> None:
        """Queue the interaction for attribution, so the listener's write is acknowledged at once.

        The flusher attributes a whole batch with one query (and one update when anything
        matched), not a database round trip per write. Past MAX_ATTRIBUTIONS queued (the
        database is slow), the writer attributes the queue itself: backpressure instead of an
        unbounded pile.
        """
        if kind not in OUTCOMES:
            return
        named = ObjectId(list_id) if list_id is not None and ObjectId.is_valid(list_id) else None
        self._attributions.append(Attribution(user_id, song_id, kind, at, named))
        self._wake.set()
        if len(self._attributions) >= MAX_ATTRIBUTIONS:
            await self.flush()

    async def attribute_many(self, batch: Sequence[Attribution]) -> list[bool]:
        """Count each interaction for the list it came from; False when none (or counted).

        Each counts for the newest list served to its listener in the last 30 minutes that
        holds the song (or the list it names), at most once per song, list and kind, across
        processes: the update only applies while the mark is absent, and when another process
        raced us to a mark, the claim stored beside it says whose it is.
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
        """One query for the batch's candidate lists; per interaction, the list it counts for."""
        since = min(a.at for a in batch) - timedelta(minutes=ATTRIBUTION_MINUTES)
        query = {
            "user_id": {"$in": list({a.user_id for a in batch})},
            "song_ids": {"$in": list({a.song_id for a in batch})},
            "created_at": {"$gte": since},
        }
        projection = {"user_id": 1, "song_ids": 1, "sources": 1, "kind": 1, "created_at": 1}
        projection["counted"] = 1
        cursor = ServedList.get_pymongo_collection().find(
            query, projection, sort=[("created_at", -1)], limit=MAX_CANDIDATE_LISTS
        )
        by_user: dict[ObjectId, list[_Candidate]] = {}
        async for doc in cursor:
            by_user.setdefault(doc["user_id"], []).append(_Candidate.of(doc))
        claims: list[_Claim] = []
        taken: set[tuple[ObjectId, str]] = set()
        for position, item in enumerate(batch):
            mark = f"{item.song_id}:{item.kind.value}"
            window_start = item.at - timedelta(minutes=ATTRIBUTION_MINUTES)
            for candidate in by_user.get(item.user_id, ()):  # newest first
                if candidate.created_at < window_start or item.song_id not in candidate.sources:
                    continue
                if item.list_id is not None and candidate.id != item.list_id:
                    continue
                if mark not in candidate.counted and (candidate.id, mark) not in taken:
                    taken.add((candidate.id, mark))
                    source = candidate.sources[item.song_id]
                    key = (_day(candidate.created_at), candidate.kind, source)
                    claims.append(_Claim(position, candidate.id, mark, key, OUTCOMES[item.kind]))
                break
        return claims

    async def _claim(self, claims: list[_Claim]) -> dict[int, tuple[tuple[str, str, str], str]]:
        """Mark the chosen lists in one bulk write; the claims this process won."""
        if not claims:
            return {}
        tickets = [ObjectId() for _ in claims]
        collection = ServedList.get_pymongo_collection()
        result = await collection.bulk_write(
            [
                UpdateOne(
                    {"_id": claim.list_id, "counted": {"$ne": claim.mark}},
                    {
                        "$addToSet": {"counted": claim.mark},
                        "$set": {f"claims.{claim.mark}": ticket},
                    },
                )
                for claim, ticket in zip(claims, tickets, strict=True)
            ],
            ordered=False,
        )
        won = {claim.position: (claim.key, claim.field) for claim in claims}
        if result.modified_count == len(claims):
            return won
        # Another process counted some of these first: the stored claims say which are ours.
        ids = list({claim.list_id for claim in claims})
        stored = {
            doc["_id"]: doc.get("claims") or {}
            async for doc in collection.find({"_id": {"$in": ids}}, {"claims": 1})
        }
        for claim, ticket in zip(claims, tickets, strict=True):
            if stored.get(claim.list_id, {}).get(claim.mark) != ticket:
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
