"""The recommendation service: builds and swaps the engine, feeds it events, answers requests.

The engine is built from a snapshot of songs and interactions in a worker thread and swapped
in atomically; requests never wait for a build. Until the first build is done, listeners
get popular songs (source POPULAR) from the database instead of an error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from beanie import PydanticObjectId
from cachetools import FIFOCache

from madhur_gql.documents import Interaction, Song
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.values import Event, Pick, RecommendationRequest, Source
from madhur_gql.services.catalog import SongFilter, load_song_snapshot, songs_by_ids
from madhur_gql.services.catalog_index import Catalog
from madhur_gql.services.ids import parse_object_id
from madhur_gql.services.recommendations.onboarding import (
    onboarding_genres,
    onboarding_picks,
    with_favourite_mood,
)
from madhur_gql.services.recommendations.reasons import FAVOURITE_GENRE, reasons_for
from madhur_gql.services.recommendations.snapshot import catalog_items, load_events, to_event

log = structlog.get_logger(__name__)

MAX_RECOMMENDATIONS = 100
REBUILD_RETRY_SECONDS = 10.0
SEEDS_PER_GENRE = 3
RECENT_IDS = 50_000


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


class RecommendationService:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._engine: RecommenderEngine | None = None
        self._listeners: set[str] = set()  # users with any interaction: not cold any more
        self._state = BuildState()
        self._build_lock = asyncio.Lock()
        # ids of recently fed interactions, so an echo of our own write is not fed twice
        self._recorded: FIFOCache[str, bool] = FIFOCache(maxsize=RECENT_IDS)

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

    async def rebuild(self, snapshot: Sequence[Mapping[str, Any]] | None = None) -> None:
        """Build a fresh engine off the event loop, then swap it in with no request waiting."""
        async with self._build_lock:
            started = time.perf_counter()
            self._state.building = True
            self._state.pending.clear()
            try:
                if snapshot is None:
                    snapshot = await load_song_snapshot()
                items = catalog_items(snapshot)
                events = await load_events()
                engine = await asyncio.to_thread(
                    RecommenderEngine.build, items, list(events.values())
                )
                # Interactions recorded while we were building may be missing from the snapshot.
                for interaction_id, event in self._state.pending:
                    if interaction_id not in events:
                        engine.record(event)
                self._listeners.update(event.user_id for event in events.values())
                self._engine = engine
            finally:
                self._state.building = False
                self._state.pending.clear()
            self._state.last_build_seconds = time.perf_counter() - started
            self._state.built_at = datetime.now(UTC)
            log.info(
                "recommender built",
                seconds=round(self._state.last_build_seconds, 2),
                songs=len(items.ids),
                interactions=len(events),
            )

    async def keep_fresh(
        self, snapshot: Sequence[Mapping[str, Any]] | None, every_minutes: float
    ) -> None:
        """First build, then a full rebuild every `every_minutes` (0: never), swapped in whole.

        Incremental updates keep lists current between builds; a rebuild re-learns the item
        graph from all interactions. A failed build (say, the database is away) is logged and
        tried again; requests keep the engine they have, or the popular fallback.
        """
        delay = 0.0
        while True:
            await asyncio.sleep(delay)
            try:
                await self.rebuild(snapshot)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recommender build failed; will retry")
                delay = REBUILD_RETRY_SECONDS
                continue
            finally:
                snapshot = None  # later builds read the catalog afresh
            if every_minutes <= 0:
                return
            delay = every_minutes * 60

    def record(self, interaction: Interaction) -> bool:
        """Feed one interaction to the engine; False if it was fed before (own write echoed)."""
        key = str(interaction.id)
        if key in self._recorded:
            return False
        self._recorded[key] = True
        event = to_event(interaction)
        self._listeners.add(event.user_id)
        if self._state.building:
            self._state.pending.append((key, event))
        if self._engine is not None:
            self._engine.record(event)
        return True

    def upsert_songs(self, docs: Sequence[Mapping[str, Any]]) -> None:
        if self._engine is not None and docs:
            self._engine.add_or_update_items(catalog_items(docs))

    def remove_songs(self, song_ids: Sequence[str]) -> None:
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
        genre = request.genre.strip().lower() if request.genre else None
        request = dataclasses.replace(request, seeds=seeds, genre=genre)
        if self._engine is None:
            return await self._popular_fallback(request.first, genre)
        if user_id is None or user_id in self._listeners:
            return await self._explain(self._engine.recommend(user_id, request))
        request = with_favourite_mood(request, favourite_moods)
        genres = onboarding_genres(request, favourite_genres)
        if not genres:
            return await self._explain(self._engine.recommend(user_id, request))
        picks = onboarding_picks(self._engine, user_id, request, genres, self._genre_seeds)
        results = await self._explain(picks)
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
        return await self._explain(self._engine.similar(song_id, first))

    async def _popular_fallback(self, first: int, genre: str | None) -> list[Recommendation]:
        """Until the first build is done: the catalog's most popular songs, flagged POPULAR."""
        ids, _ = self.catalog.index.query(
            song_filter=SongFilter(genre=genre) if genre else None, offset=0, limit=first
        )
        found = await songs_by_ids([PydanticObjectId(i) for i in ids])
        songs = [found[key] for key in map(PydanticObjectId, ids) if key in found]
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

    async def _explain(self, picks: list[Pick]) -> list[Recommendation]:
        wanted = {PydanticObjectId(p.item_id) for p in picks}
        wanted.update(PydanticObjectId(b) for p in picks for b in p.because[:2])
        songs = await songs_by_ids(list(wanted))
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
