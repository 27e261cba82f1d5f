"""The recommendation service: builds and swaps the engine, feeds it events, answers requests.

The engine is built from a snapshot of songs and interactions in a worker thread and swapped
in atomically; requests never wait for a build. Until the first build is done, listeners
get popular songs (source POPULAR) from the database instead of an error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from beanie import PydanticObjectId
from cachetools import TTLCache
from pymongo import MongoClient

from madhur_gql.documents import Interaction, Song
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.domain.song_fields import name_key
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.values import Event, Pick, RecommendationRequest, Source
from madhur_gql.services.catalog.browse import SongBrowser
from madhur_gql.services.catalog.songs import SNAPSHOT_FIELDS, SongFilter
from madhur_gql.services.recommendations.onboarding import (
    onboarding_genres,
    onboarding_picks,
    with_favourite_mood,
)
from madhur_gql.services.recommendations.reasons import FAVOURITE_GENRE, reasons_for
from madhur_gql.services.recommendations.snapshot import (
    EVENT_FIELDS,
    SIGNAL_QUERY,
    catalog_items,
    event_from_doc,
    to_event,
)

log = structlog.get_logger(__name__)

ANSWER_TTL_SECONDS = 0.5
AnswerKey = tuple[str, RecommendationRequest, tuple[str, ...], tuple[str, ...]]
ANSWER_CACHE_SIZE = 20_000


@dataclass(frozen=True, slots=True)
class Built:
    engine: RecommenderEngine
    interaction_ids: frozenset[str]  # what the build read, to add what arrived meanwhile
    listeners: frozenset[str]


def build_engine(uri: str, database: str) -> Built:
    """The full build, run in the build process: it reads the songs and the interactions
    itself (decoding them in the API process stalled requests for seconds) and builds."""
    with MongoClient[dict[str, Any]](uri, tz_aware=True) as client:
        db = client[database]
        projection = dict.fromkeys(SNAPSHOT_FIELDS, 1)
        snapshot = list(db[Song.Settings.name].find({}, projection, batch_size=5000))
        event_docs = list(
            db[Interaction.Settings.name].find(
                SIGNAL_QUERY, dict.fromkeys(EVENT_FIELDS, 1), batch_size=5000
            )
        )
    engine = RecommenderEngine.build(
        catalog_items(snapshot), [event_from_doc(doc) for doc in event_docs]
    )
    return Built(
        engine,
        frozenset(str(doc["_id"]) for doc in event_docs),
        frozenset(str(doc["user_id"]) for doc in event_docs),
    )


MAX_RECOMMENDATIONS = 100
REBUILD_RETRY_SECONDS = 10.0
SEEDS_PER_GENRE = 3


@dataclass(frozen=True, slots=True)
class Recommendation:
    song: Song
    score: float
    source: Source
    reasons: list[str]


@dataclass(slots=True)
class BuildState:
    building: bool = False
    last_build_seconds: float = 0.0
    built_at: datetime | None = None
    builds: int = 0
    pending: list[tuple[str, Event]] = field(default_factory=list)  # arrived during a build


class RecommendationService:
    def __init__(self, catalog: SongBrowser) -> None:
        self.catalog = catalog
        self._engine: RecommenderEngine | None = None
        self._listeners: set[str] = set()  # users with any interaction: not cold any more
        self._state = BuildState()
        self._build_lock = asyncio.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self.source: tuple[str, str] | None = None  # (MongoDB URI, database) for builds
        # Answers by (listener, request): a listener asking again within ANSWER_TTL_SECONDS,
        # with no interaction of theirs in between and no engine swap, gets the same list.
        # Other listeners' interactions move the graph slightly: the TTL bounds how long
        # that takes to show (the README's 1 s for others' changes).
        self._answers: TTLCache[AnswerKey, list[Recommendation]] = TTLCache(
            maxsize=ANSWER_CACHE_SIZE, ttl=ANSWER_TTL_SECONDS
        )
        self._invalidations = 0

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("spawn")  # no fork of a running event loop
            self._executor = ProcessPoolExecutor(max_workers=1, mp_context=context)
        return self._executor

    def close(self) -> None:
        """Stop the build process (a build in flight is abandoned)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()

    @property
    def ready(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> RecommenderEngine | None:
        return self._engine

    def stats(self) -> dict[str, float | int]:
        stats: dict[str, float | int] = dict(self._engine.stats()) if self._engine else {}
        stats["build_seconds"] = self._state.last_build_seconds
        stats["builds"] = self._state.builds
        stats["building"] = int(self._state.building)
        if self._state.built_at is not None:
            stats["age_seconds"] = (datetime.now(UTC) - self._state.built_at).total_seconds()
        return stats

    async def rebuild(self) -> None:
        """Build a fresh engine off the event loop, then swap it in with no request waiting."""
        async with self._build_lock:
            started = time.perf_counter()
            self._state.building = True
            self._state.pending.clear()
            try:
                if self.source is None:  # pragma: no cover - the app always sets it
                    raise RuntimeError("RecommendationService.source is not set")
                # In another process: the build is CPU-bound Python and numpy, and in a thread
                # it held the GIL long enough to stall every request (4.3 s). The engine is
                # numpy/scipy state, so it comes back pickled and is swapped in whole.
                loop = asyncio.get_running_loop()
                built = await loop.run_in_executor(self._pool(), build_engine, *self.source)
                engine, loaded = built.engine, built.interaction_ids
                items_count = len(engine.items)
                # Interactions recorded while we were building may be missing from the snapshot.
                for interaction_id, event in self._state.pending:
                    if interaction_id not in loaded:
                        engine.record(event)
                self._listeners.update(built.listeners)
                self._engine = engine
                self._forget_all_answers()
            finally:
                self._state.building = False
                self._state.pending.clear()
            self._state.last_build_seconds = time.perf_counter() - started
            self._state.built_at = datetime.now(UTC)
            self._state.builds += 1
            log.info(
                "recommender built",
                seconds=round(self._state.last_build_seconds, 2),
                songs=items_count,
                interactions=len(loaded),
            )

    async def keep_fresh(self, every_minutes: float) -> None:
        """First build, then a full rebuild every `every_minutes` (0: never), swapped in whole.

        Incremental updates keep lists current between builds; a rebuild re-learns the item
        graph from all interactions. A failed build (say, the database is away) is logged and
        tried again; requests keep the engine they have, or the popular fallback.
        """
        delay = 0.0
        while True:
            await asyncio.sleep(delay)
            try:
                await self.rebuild()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recommender build failed; will retry")
                delay = REBUILD_RETRY_SECONDS
                continue
            if every_minutes <= 0:
                return
            delay = every_minutes * 60

    def record(self, interaction: Interaction) -> None:
        """Feed one interaction to the engine. Called once per interaction by the one door
        into memory (services/live.py), which deduplicates own writes and their echoes."""
        key = str(interaction.id)
        event = to_event(interaction)
        self._forget_answers(event.user_id)
        self._listeners.add(event.user_id)
        if self._state.building:
            self._state.pending.append((key, event))
        if self._engine is not None:
            self._engine.record(event)

    def _forget_answers(self, user_id: str) -> None:
        self._invalidations += 1
        for key in [k for k in list(self._answers.keys()) if k[0] == user_id]:
            self._answers.pop(key, None)

    def _forget_all_answers(self) -> None:
        self._invalidations += 1
        self._answers.clear()

    def upsert_songs(self, docs: Sequence[Mapping[str, Any]]) -> None:
        self._forget_all_answers()
        if self._engine is not None and docs:
            self._engine.add_or_update_items(catalog_items(docs))

    def remove_songs(self, song_ids: Sequence[str]) -> None:
        self._forget_all_answers()
        if self._engine is not None and song_ids:
            self._engine.remove_items(song_ids)

    async def recommend(
        self,
        user_id: str | None,
        request: RecommendationRequest,
        *,
        favourite_genres: Sequence[str] = (),
        favourite_moods: Sequence[str] = (),
    ) -> list[Recommendation]:
        """Personal picks; a listener with no history yet is steered by their onboarding choices."""
        seeds = tuple(str(parse_object_id(s, field="seedSongIds")) for s in request.seeds)
        genre = name_key(request.genre) if request.genre else None
        request = dataclasses.replace(request, seeds=seeds, genre=genre)
        if self._engine is None:
            hidden = request.steering.hidden_artists if request.steering else frozenset()
            return await self._popular_fallback(request.first, genre, hidden)
        key = (user_id or "", request, tuple(favourite_genres), tuple(favourite_moods))
        answer = self._answers.get(key)
        if answer is None:
            invalidations = self._invalidations
            answer = await self._recommend(user_id, request, favourite_genres, favourite_moods)
            if invalidations == self._invalidations:  # nothing changed while we awaited
                self._answers[key] = answer
        return answer

    async def _recommend(
        self,
        user_id: str | None,
        request: RecommendationRequest,
        favourite_genres: Sequence[str],
        favourite_moods: Sequence[str],
    ) -> list[Recommendation]:
        assert self._engine is not None
        if user_id is None or user_id in self._listeners:
            return await self.explain(self._engine.recommend(user_id, request))
        request = with_favourite_mood(request, favourite_moods)
        genres = onboarding_genres(request, favourite_genres)
        if not genres:
            return await self.explain(self._engine.recommend(user_id, request))
        picks = onboarding_picks(self._engine, user_id, request, genres, self._genre_seeds)
        results = await self.explain(picks)
        for result in results:
            shared = [g for g in genres if g in result.song.genres]
            if shared:
                result.reasons.insert(0, FAVOURITE_GENRE.format(genre=shared[0]))
        return results

    def _genre_seeds(self, genre: str) -> list[str]:
        ids, _ = self.catalog.index.query(
            song_filter=SongFilter(genre=genre), offset=0, limit=SEEDS_PER_GENRE
        )
        return list(ids)

    async def similar(self, song_id: str, first: int) -> list[Recommendation]:
        if self._engine is None:
            return []
        return await self.explain(self._engine.similar(song_id, first))

    async def _popular_fallback(
        self, first: int, genre: str | None, hidden: frozenset[str] = frozenset()
    ) -> list[Recommendation]:
        """Until the first build is done: the catalog's most popular songs, flagged POPULAR
        (none by an artist the listener hid)."""
        extra = 3 * first if hidden else 0
        ids, _ = self.catalog.index.query(
            song_filter=SongFilter(genre=genre) if genre else None, offset=0, limit=first + extra
        )
        found = await self.catalog.songs.by_ids([PydanticObjectId(i) for i in ids])
        songs = [found[key] for key in map(PydanticObjectId, ids) if key in found]
        songs = [s for s in songs if name_key(s.artist) not in hidden][:first]
        top = max((s.popularity for s in songs), default=1) or 1
        return [
            Recommendation(
                song=s,
                score=round(s.popularity / top, 4),
                source=Source.POPULAR,
                reasons=["Popular on Madhur right now"],
            )
            for s in songs
        ]

    async def explain(self, picks: list[Pick]) -> list[Recommendation]:
        """The picks as songs with reasons, in order (songs deleted since are left out)."""
        wanted = {PydanticObjectId(p.item_id) for p in picks}
        wanted.update(PydanticObjectId(b) for p in picks for b in p.because[:2])
        songs = await self.catalog.songs.by_ids(list(wanted))
        results = []
        for pick in picks:
            song = songs.get(PydanticObjectId(pick.item_id))
            if song is None:  # deleted since the index was built
                continue
            because = [songs[b] for b in map(PydanticObjectId, pick.because[:2]) if b in songs]
            results.append(
                Recommendation(
                    song=song,
                    score=round(float(pick.score), 4),
                    source=pick.source,
                    reasons=reasons_for(pick, because, song),
                )
            )
        return results
