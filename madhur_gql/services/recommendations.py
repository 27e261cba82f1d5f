"""Keeps the in-memory recommender in step with MongoDB and explains its picks.

The engine is built from a snapshot of songs and interactions in a worker thread and swapped
in atomically; requests never wait for a build. Until the first build is done, listeners
get popular songs (source POPULAR) from the database instead of an error.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import structlog
from beanie import PydanticObjectId

from madhur_gql.documents import Interaction, Song
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.recommender.engine import (
    FEATURE_NAMES,
    CatalogItems,
    Event,
    Pick,
    RecommenderEngine,
    Source,
)
from madhur_gql.recommender.mood import Mood, describe
from madhur_gql.services.catalog.browse import SongBrowser as Catalog
from madhur_gql.services.catalog.songs import SongFilter, load_song_snapshot, songs_by_ids

log = structlog.get_logger(__name__)

MAX_RECOMMENDATIONS = 100
REBUILD_RETRY_SECONDS = 10.0
MAX_FAVOURITE_GENRES = 5
SEEDS_PER_GENRE = 3
RECENT_IDS = 50_000
EVENTS_BATCH = 5000


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


def to_event(interaction: Interaction) -> Event:
    return Event(
        user_id=str(interaction.user_id),
        item_id=str(interaction.song_id),
        kind=interaction.kind.value.lower(),
        at=interaction.created_at,
        value=float(interaction.rating) if interaction.rating is not None else None,
    )


def catalog_items(snapshot: Sequence[Mapping[str, Any]]) -> CatalogItems:
    """The recommender's view of the catalog, from the shared song snapshot."""
    ids = [str(doc["_id"]) for doc in snapshot]
    playlists: dict[str, list[str]] = {}
    for song_id, doc in zip(ids, snapshot, strict=True):
        for playlist_id in doc.get("playlist_ids") or ():
            playlists.setdefault(playlist_id, []).append(song_id)
    features = np.array(
        [[float(doc["audio"][name]) for name in FEATURE_NAMES] for doc in snapshot],
        dtype=np.float32,
    ).reshape(len(ids), len(FEATURE_NAMES))
    return CatalogItems(
        ids=ids,
        features=features,
        artists=[doc.get("artist_lc") or doc["artist"].lower() for doc in snapshot],
        genres=[tuple(doc.get("genres") or ()) for doc in snapshot],
        popularity=np.array([doc.get("popularity") or 0 for doc in snapshot], dtype=np.float32),
        groups=[group for group in playlists.values() if len(group) > 1],
    )


async def load_events() -> dict[str, Event]:
    """Every stored interaction as an engine event, by interaction id."""
    events: dict[str, Event] = {}
    cursor = Interaction.get_pymongo_collection().find({}, batch_size=EVENTS_BATCH)
    async for doc in cursor:
        events[str(doc["_id"])] = to_event(Interaction.model_validate(doc))
    return events


class RecommendationService:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._engine: RecommenderEngine | None = None
        self._listeners: set[str] = set()  # users with any interaction: not cold any more
        self._state = BuildState()
        self._build_lock = asyncio.Lock()
        self._recorded: OrderedDict[str, None] = OrderedDict()  # recent interaction ids

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
        self._recorded[key] = None
        if len(self._recorded) > RECENT_IDS:
            self._recorded.popitem(last=False)
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
        first: int,
        *,
        mood: Mood | None = None,
        valence: float | None = None,
        energy: float | None = None,
        seed_song_ids: Sequence[str] = (),
        genre: str | None = None,
        diversity: float = 0.3,
        favourite_genres: Sequence[str] = (),
        favourite_moods: Sequence[str] = (),
    ) -> list[Recommendation]:
        """Personal picks; a listener with no history yet is steered by their onboarding choices."""
        seeds = [str(parse_object_id(s, field="seedSongIds")) for s in seed_song_ids]
        genre = genre.strip().lower() if genre else None
        if self._engine is None:
            return await self._popular_fallback(first, genre)
        onboarding = user_id is not None and user_id not in self._listeners
        if onboarding and mood is None and valence is None and energy is None and favourite_moods:
            mood = Mood(favourite_moods[0])
        chosen = [g.lower() for g in favourite_genres][:MAX_FAVOURITE_GENRES]
        if onboarding and chosen and not seeds and genre is None:
            return await self._onboarding(user_id, first, chosen, mood, valence, energy, diversity)
        picks = self._engine.recommend(
            user_id,
            first,
            mood=mood,
            valence=valence,
            energy=energy,
            seeds=seeds,
            genre=genre,
            diversity=diversity,
        )
        return await self._explain(picks)

    async def _onboarding(
        self,
        user_id: str | None,
        first: int,
        genres: Sequence[str],
        mood: Mood | None,
        valence: float | None,
        energy: float | None,
        diversity: float,
    ) -> list[Recommendation]:
        """No history yet: songs like the best of each chosen genre, the genres taking turns."""
        assert self._engine is not None
        per_genre = [
            self._engine.recommend(
                user_id,
                first,
                mood=mood,
                valence=valence,
                energy=energy,
                seeds=self._genre_seeds([genre]),
                genre=genre,
                diversity=diversity,
            )
            for genre in genres
        ]
        picks: dict[str, Pick] = {}
        for rank in range(first):
            for genre_picks in per_genre:
                if rank < len(genre_picks) and len(picks) < first:
                    picks.setdefault(genre_picks[rank].item_id, genre_picks[rank])
        results = await self._explain(list(picks.values()))
        for result in results:
            shared = [g for g in genres if g in result.song.genres]
            if shared:
                result.reasons.insert(0, f"From your favourite genre: {shared[0]}")
        return results

    def _genre_seeds(self, genres: Sequence[str]) -> list[str]:
        seeds: list[str] = []
        for genre in genres:
            ids, _ = self.catalog.index.query(
                song_filter=SongFilter(genre=genre), offset=0, limit=SEEDS_PER_GENRE
            )
            seeds.extend(ids)
        return seeds

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


def reasons_for(pick: Pick, because: list[Song], song: Song) -> list[str]:
    reasons: list[str] = []
    names = [f"{s.title} by {s.artist}" for s in because]
    if pick.source is Source.COLLABORATIVE and names:
        reasons.append(f"Listeners who liked {names[0]} also love this")
    elif pick.source is Source.CONTENT and names:
        reasons.append(f"Because you liked {names[0]}")
    elif pick.source is Source.SEED and names:
        reasons.append(f"Similar to {names[0]}")
    elif pick.source is Source.POPULAR:
        genre = song.genres[0] if song.genres else None
        reasons.append(f"Popular in {genre}" if genre else "Popular on Madhur right now")
    if len(names) > 1 and pick.source is not Source.POPULAR:
        reasons.append(f"Also close to {names[1]}")
    if pick.mood is not None:
        reasons.append(describe(pick.mood))
    if not reasons:
        reasons.append("Picked for you from the songs you play")
    return reasons
