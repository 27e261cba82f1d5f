"""The recommendation service: builds and swaps the engine, feeds it events, answers requests.

The engine is built from a snapshot of songs and interactions in another process (builder.py)
and swapped in whole; requests never wait for a build. Until the first build is done, listeners
get popular songs (source POPULAR) from the database instead of an error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from beanie import PydanticObjectId
from cachetools import FIFOCache, TTLCache

from madhur_gql.documents import Interaction, Song
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.domain.song_fields import name_key
from madhur_gql.recommender.blas import single_threaded_blas
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.values import Event, Pick, RecommendationRequest, Source
from madhur_gql.services.accounts.standing import ListenerStanding
from madhur_gql.services.catalog.browse import SongBrowser
from madhur_gql.services.catalog.songs import SongFilter
from madhur_gql.services.recommendations.builder import EngineBuilder
from madhur_gql.services.recommendations.live import ListenerSignals
from madhur_gql.services.recommendations.onboarding import (
    blend,
    onboarding_genres,
    onboarding_moods,
    onboarding_picks,
    onboarding_requests,
    onboarding_share,
)
from madhur_gql.services.recommendations.reasons import FAVOURITE_GENRE, reasons_for
from madhur_gql.services.recommendations.snapshot import catalog_items, to_event

log = structlog.get_logger(__name__)

MAX_RECOMMENDATIONS = 100
REBUILD_RETRY_SECONDS = 10.0
FORGET_REBUILD_SECONDS = 30.0
SEEDS_PER_GENRE = 3
RECENT_IDS = 50_000
# A listener asking again within this long, with no interaction of theirs in between, no
# engine swap and no song edit, gets the same list (with current counters). Other listeners'
# interactions move the graph a little: the TTL bounds how long that takes to show.
ANSWER_TTL_SECONDS = 0.5
ANSWER_LISTENERS = 20_000  # listeners whose recent answers are kept
AnswerKey = tuple[RecommendationRequest, tuple[str, ...], tuple[str, ...]]


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
    pending: list[tuple[str, Event]] = field(default_factory=list)  # arrived during a build
    # song edits and removals during a build, re-applied to the new engine (they are idempotent)
    pending_songs: list[Callable[[RecommenderEngine], None]] = field(default_factory=list)


class RecommendationService:
    def __init__(
        self,
        catalog: SongBrowser,
        builder: EngineBuilder,
        signals: ListenerSignals | None = None,
        standing: ListenerStanding | None = None,
    ) -> None:
        single_threaded_blas()  # requests are small products: see recommender/blas.py
        self.catalog = catalog
        self.builder = builder  # replaceable: a forced rebuild may use another build
        self.signals = signals or ListenerSignals()  # live lists wait on these
        self.standing = standing or ListenerStanding()  # who counts fully in shared lists
        self._engine: RecommenderEngine | None = None
        self._state = BuildState()
        self._build_lock = asyncio.Lock()
        self._rebuild_soon: asyncio.Task[None] | None = None
        # ids of recently fed interactions, so an echo of our own write is not fed twice
        self._recorded: FIFOCache[str, bool] = FIFOCache(maxsize=RECENT_IDS)
        # Recent answers by listener, then by request: dropped whole when the listener's own
        # interaction comes through the one door (services/live.py), so they never hide it.
        self._answers: TTLCache[str, dict[AnswerKey, list[Recommendation]]] = TTLCache(
            maxsize=ANSWER_LISTENERS, ttl=ANSWER_TTL_SECONDS
        )
        self.answers_served = 0

    @property
    def ready(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> RecommenderEngine | None:
        return self._engine

    def stats(self) -> dict[str, float | int]:
        stats: dict[str, float | int] = dict(self._engine.stats()) if self._engine else {}
        stats["build_seconds"] = self._state.last_build_seconds
        if self._state.built_at is not None:
            stats["age_seconds"] = (datetime.now(UTC) - self._state.built_at).total_seconds()
        return stats

    async def rebuild(self) -> None:
        """Build a fresh engine in another process, then swap it in whole on the loop."""
        async with self._build_lock:
            started = time.perf_counter()
            self._state.building = True
            self._state.pending.clear()
            self._state.pending_songs.clear()
            try:
                built = await self.builder.build()
                # Interactions recorded while the child built may be missing from its snapshot.
                pending = self._state.pending
                missing = built.missing([key for key, _ in pending])
                for (_, event), absent in zip(pending, missing, strict=True):
                    if absent:
                        built.engine.record(event)
                for change in self._state.pending_songs:
                    change(built.engine)
                self.standing.adopt(built.listener_weights)
                self._engine = built.engine
                self._answers.clear()
                # The engine lives until the next swap: freezing it (and whatever else is alive)
                # keeps the collector's full passes short (they walk every tracked object).
                gc.freeze()
            finally:
                self._state.building = False
                self._state.pending.clear()
                self._state.pending_songs.clear()
            self._state.last_build_seconds = time.perf_counter() - started
            self._state.built_at = datetime.now(UTC)
            log.info(
                "recommender built",
                seconds=round(self._state.last_build_seconds, 2),
                child_seconds=round(built.build_seconds, 2),
                shipped_mb=round(built.shipped_bytes / 2**20, 1),
                load_seconds=round(built.load_seconds, 3),
                child_peak_rss_mb=round(built.child_peak_rss_bytes / 2**20),
                replayed=sum(missing),
                songs=built.songs,
                interactions=len(built.interaction_ids),
            )

    def forget_listener(self, user_id: str) -> None:
        """A deleted account: its profile goes now; the next build (soon) learns the graphs
        without it."""
        if self._engine is not None:
            self._engine.forget_user(user_id)
        if self._rebuild_soon is None or self._rebuild_soon.done():
            self._rebuild_soon = asyncio.get_running_loop().create_task(self._rebuild_later())

    async def _rebuild_later(self) -> None:
        await asyncio.sleep(FORGET_REBUILD_SECONDS)  # one build for a burst of deletions
        try:
            await self.rebuild()
        except Exception:
            log.exception("recommender build after an account deletion failed")

    async def keep_fresh(self, every_minutes: float) -> None:
        """First build, then a full rebuild every `every_minutes` (0: never), swapped in whole.

        Incremental updates keep lists current between builds; a rebuild re-learns the item
        graph from all interactions. A failed build (say, the database is away) is logged and
        tried again; requests keep the engine they have, or the popular fallback.
        """
        delay = 0.0
        try:
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
        finally:
            self.builder.close()

    def record(self, interaction: Interaction) -> bool:
        """Feed one interaction to the engine; False if it was fed before (own write echoed)."""
        key = str(interaction.id)
        if key in self._recorded:
            return False
        self._recorded[key] = True
        event = to_event(interaction)
        self._answers.pop(event.user_id, None)
        if self._state.building:
            self._state.pending.append((key, event))
        if self._engine is not None:
            self._engine.record(event)
        self.signals.changed(event.user_id)  # own writes and the change stream alike
        return True

    def upsert_songs(self, docs: Sequence[Mapping[str, Any]]) -> None:
        self._answers.clear()
        if self._engine is not None and docs:
            self._engine.add_or_update_items(catalog_items(docs))
        if self._state.building and docs:  # and to the engine being built, after the swap
            items = catalog_items(docs)
            self._state.pending_songs.append(lambda engine: engine.add_or_update_items(items))

    def remove_songs(self, song_ids: Sequence[str]) -> None:
        self._answers.clear()
        if self._engine is not None and song_ids:
            self._engine.remove_items(song_ids)
        if self._state.building and song_ids:
            removed = list(song_ids)
            self._state.pending_songs.append(lambda engine: engine.remove_items(removed))

    async def recommend(
        self,
        user_id: str | None,
        request: RecommendationRequest,
        *,
        favourite_genres: Sequence[str] = (),
        favourite_moods: Sequence[str] = (),
    ) -> list[Recommendation]:
        """Personal picks; while the history is thin, the listener's favourite genres and moods
        take a share of the list that fades as it grows (onboarding.py)."""
        seeds = tuple(str(parse_object_id(s, field="seedSongIds")) for s in request.seeds)
        genre = name_key(request.genre) if request.genre else None
        if seeds != request.seeds or genre != request.genre:  # (a frozen dataclass: kept)
            request = dataclasses.replace(request, seeds=seeds, genre=genre)
        engine = self._engine
        if engine is None:
            return await self._popular_fallback(request)
        favourites = (tuple(favourite_genres), tuple(favourite_moods))
        if user_id is None:
            return await self._recommend(engine, user_id, request, *favourites)
        key = (request, *favourites)
        answers = self._answers.get(user_id)
        if answers is None:
            answers = self._answers[user_id] = {}
        elif key in answers:
            self.answers_served += 1
            return self._current(answers[key])
        answer = await self._recommend(engine, user_id, request, *favourites)
        if self._answers.get(user_id) is answers:  # not dropped or swapped while we awaited
            answers[key] = answer
            return self._current(answer)
        return answer

    def _current(self, answer: list[Recommendation]) -> list[Recommendation]:
        """A remembered answer with the songs as the store holds them now (counters move)."""
        store = self.catalog.songs
        return [
            Recommendation(
                song=(store.cached(r.song.id) if r.song.id else None) or r.song,
                score=r.score,
                source=r.source,
                reasons=list(r.reasons),
            )
            for r in answer
        ]

    async def _recommend(
        self,
        engine: RecommenderEngine,
        user_id: str | None,
        request: RecommendationRequest,
        favourite_genres: Sequence[str],
        favourite_moods: Sequence[str],
    ) -> list[Recommendation]:
        genres = onboarding_genres(request, favourite_genres)
        moods = onboarding_moods(request, favourite_moods)
        share = 0.0
        if user_id is not None and (genres or moods):
            share = onboarding_share(engine.positive_songs(user_id))
        if share <= 0.0:
            return await self.explain(engine.recommend(user_id, request))
        requests = onboarding_requests(request, genres, moods, self._genre_seeds)
        guided = onboarding_picks(engine, user_id, requests, request.first)
        short = len(guided) < request.first  # favourites too narrow to fill the list
        personal = engine.recommend(user_id, request) if share < 1.0 or short else []
        picks = blend(guided, personal, share, request.first)
        results = await self.explain(picks)
        from_favourites = {p.item_id for p in guided}
        for result in results:
            shared = [g for g in genres if g in result.song.genres]
            if shared and str(result.song.id) in from_favourites:
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

    async def _popular_fallback(self, request: RecommendationRequest) -> list[Recommendation]:
        """Until the first build is done: the catalog's most popular songs, flagged POPULAR
        (in the genre, language and country asked for; none by an artist the listener hid)."""
        hidden = request.steering.hidden_artists if request.steering else frozenset()
        first = request.first
        extra = 3 * first if hidden else 0
        song_filter = SongFilter(
            genre=request.genre, language=request.language, country=request.country
        )
        ids, _ = self.catalog.index.query(
            song_filter=song_filter, limit=first + extra, once_per_recording=True
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
        """The picks as songs with reasons, in order (songs deleted since are left out).

        Every list leaves here, so this is where its scores are made non-increasing: each is
        the pick's final score capped by the one above it (a re-rank for variety, an artist
        cap, a rested favourite or an onboarding pick placed higher keeps the list's order
        and never shows a score rising down it)."""
        wanted = {PydanticObjectId(p.item_id) for p in picks}
        wanted.update(PydanticObjectId(b) for p in picks for b in p.because[:2])
        songs = await self.catalog.songs.by_ids(list(wanted))
        results = []
        cap = 1.0
        for pick in picks:
            song = songs.get(PydanticObjectId(pick.item_id))
            if song is None:  # deleted since the index was built
                continue
            because = [songs[b] for b in map(PydanticObjectId, pick.because[:2]) if b in songs]
            cap = min(cap, round(float(pick.score), 4))
            results.append(
                Recommendation(
                    song=song,
                    score=cap,
                    source=pick.source,
                    reasons=reasons_for(pick, because, song),
                )
            )
        return results
