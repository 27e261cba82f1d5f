"""API-facing hybrid recommender: item-CF + audio content + moods, with diversity and caps.

The service builds an engine from a catalog snapshot and the event log (``build``, seconds, run
in a worker thread on fresh objects and swapped in atomically), then feeds new events with
``record`` (O(1) per event; the next ``recommend`` sees it). ``record``/``recommend`` are meant
to be called from one thread (the asyncio loop); nothing here locks.

The engine is a thin facade over its parts, one job each:

- ``items.ItemTable``: per-song arrays (audio vectors, artists, genre masks, popularity, CF
  evidence and the weights derived from it);
- ``profiles.ProfileStore``: each listener's decayed strengths (like > play, rating scaled
  around 3, skip < 0), log1p-damped, and what not to recommend back;
- ``graphs.ItemGraphs``: RP3beta top-100 (top-25 above ``dense_limit`` songs) and EASE pruned
  to top-200, learnt from playlists + histories; ``factors.FactorModel``: implicit ALS on the
  same rows, folded in per taste;
- ``scoring``: an accurate blend (factors + EASE) and a broad, popularity-debiased one
  (factors + RP3beta), each blended per item with the cosine to the taste's mean audio vector,
  the content weight growing as CF evidence shrinks (new songs rank through content); the
  head of a list is ranked by the accurate blend, its tail by the broad one;
- ``rerank``: mood / valence-energy steering, then MMR over content vectors (``diversity``)
  with a per-artist cap; ``explain``: which taste items stand behind each pick.

No usable taste (new user, or a taste nothing resembles) -> popular picks, or mood picks when a
mood is given. Up to ``EngineConfig.dense_limit`` songs every request scores the whole catalog;
above it, only the CF graphs' reach plus an IVF content shortlist (and the best mood matches),
so request cost follows the user's history instead of the catalog size.

Offline quality of this exact path on the Last.fm dev split: BENCHMARKS.md (Recommender).
Returned scores are the final relevance in 0..1 (after steering, moods and debiasing), each
capped by the one above it, so they never rise down a list the MMR re-rank reordered. Events
recorded while a new engine is being built are not in that snapshot: the service should
re-``record`` them on the new engine after the swap.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

import numpy as np
import scipy.sparse as sp

from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.explain import evidence_for
from madhur_gql.recommender.factors import FactorModel
from madhur_gql.recommender.features import FEATURE_NAMES
from madhur_gql.recommender.graphs import (
    ItemGraphs,
    evidence_of,
    interaction_matrix,
    interaction_rows,
)
from madhur_gql.recommender.items import ItemTable
from madhur_gql.recommender.mood import Mood, in_region
from madhur_gql.recommender.profiles import Profile, ProfileStore, timestamp
from madhur_gql.recommender.provenance import LinkSources
from madhur_gql.recommender.rerank import best_mood_rows, select, steer_by_mood
from madhur_gql.recommender.scoring import (
    CFModels,
    Scored,
    final_scores,
    score_similar,
    score_taste,
    widen,
)
from madhur_gql.recommender.values import (
    Basis,
    CatalogItems,
    Event,
    Pick,
    RecommendationRequest,
    Source,
    Vibe,
)

__all__ = [
    "FEATURE_NAMES",
    "CatalogItems",
    "EngineConfig",
    "Event",
    "Mood",
    "Pick",
    "RecommendationRequest",
    "RecommenderEngine",
    "Source",
]


class RecommenderEngine:
    """Hybrid recommender over a song catalog; see the module docstring for the pipeline."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.items = ItemTable(self.config)
        self.profiles = ProfileStore(self.config)
        self.graphs = ItemGraphs()
        self.links = LinkSources.empty()  # which rows (playlists, listeners) hold each song
        self.factors: FactorModel | None = None
        self._folded: dict[str, np.ndarray | None] = {}  # fold-ins since the last event
        self._build_seconds = 0.0
        self._ready = False

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        items: CatalogItems,
        events: Iterable[Event],
        *,
        config: EngineConfig | None = None,
        bulk_interactions: sp.csr_matrix | None = None,
        listener_weights: Mapping[str, float] | None = None,
    ) -> RecommenderEngine:
        """Full build: item table, histories, CF graphs from groups + users (+ bulk rows).

        ``bulk_interactions`` (rows x catalog items, positive strengths) adds co-occurrence
        evidence without per-event objects - e.g. a bulk-imported history of millions of plays.
        It feeds the CF graphs only; those rows have no user profile here.
        ``listener_weights`` (user id -> 0..1, default 1) weighs each listener's row in the
        graphs; only rows of weight 1 (and playlists and bulk rows) count as established
        support for a link (``EngineConfig.min_support``).
        """
        t0 = time.perf_counter()
        engine = cls(config)
        engine.items = ItemTable.build(items, engine.config)
        for event in events:
            engine.record(event)
        table = engine.items
        histories = list(engine.profiles.positive_histories())
        weights = [(listener_weights or {}).get(user_id, 1.0) for user_id, _ in histories]
        songs = table.song_index()  # a playlist holding two versions holds the song once
        x = interaction_matrix(
            items.groups,
            songs,
            (h for _, h in histories),
            len(table),
            bulk_interactions,
            weights,
        )
        first_user = interaction_rows(items.groups, songs, histories) - len(histories)
        user_rows = {uid: first_user + k for k, (uid, _) in enumerate(histories)}
        evidence = evidence_of(x)
        engine.graphs = ItemGraphs.learn(x, evidence, engine.config)
        established = np.ones(x.shape[0], dtype=bool)  # rows: groups, users, bulk
        established[first_user : first_user + len(histories)] = np.asarray(weights) >= 1.0
        engine.links = LinkSources.split(x, first_user, established)
        engine.graphs.support = engine.links
        engine.graphs.min_support = engine.config.min_support
        engine.factors = FactorModel.learn(x, user_rows, engine.config)
        holders = engine.links.holders()  # established rows per item
        table.set_evidence(evidence, holders > 0)  # held by fresh accounts only: no CF
        engine._build_seconds = time.perf_counter() - t0
        engine._ready = True
        return engine

    # ---------------------------------------------------------------- updates
    def forget_user(self, user_id: str) -> None:
        """A deleted account: its profile goes now, its part of the graphs at the next build."""
        self.profiles.forget(user_id)

    def record(self, event: Event) -> None:
        """Fold one event into the user's profile (ignored for unknown songs)."""
        row = self.items.song_row(str(event.item_id))  # any version counts for the song
        if row is not None:
            self.profiles.record(event, row)
            user = str(event.user_id)
            self._folded.pop(user, None)
            if self.factors is not None:
                self.factors.users.pop(user, None)

    def add_or_update_items(self, items: CatalogItems) -> None:
        """Update existing songs in place and append new ones.

        New songs get no CF neighbours until the next ``build`` (their ``groups`` are ignored
        here) but rank through content and mood at once.
        """
        if self.items.upsert(items):
            self.graphs.grow(len(self.items))
            self.links.grow(len(self.items))
            if self.factors is not None:
                self.factors.grow(len(self.items))

    def remove_items(self, item_ids: Collection[str]) -> None:
        """Hide songs from every result immediately (index rows stay until the next build)."""
        self.items.remove(item_ids)

    # ---------------------------------------------------------------- queries
    @property
    def ready(self) -> bool:
        """True once built."""
        return self._ready

    def stats(self) -> dict[str, float | int]:
        """Sizes and build time for /metrics."""
        cf_bytes = self.graphs.nbytes() + (self.factors.nbytes() if self.factors else 0)
        item_bytes, content_bytes = self.items.nbytes()
        return {
            "items": len(self.items),
            "items_alive": int(self.items.alive.sum()),
            "users": len(self.profiles),
            "events": self.profiles.events,
            "cf_edges": self.graphs.edges,
            "cf_bytes": cf_bytes,
            "content_bytes": content_bytes,
            "item_bytes": item_bytes,
            "index_bytes": cf_bytes + content_bytes + item_bytes,
            "build_seconds": round(self._build_seconds, 4),
            "genre_masks": self.items.genre_masks_cached,
        }

    def positive_songs(self, user_id: str) -> int:
        """Songs the listener's history holds positively (onboarding fades with it)."""
        return self.profiles.positive_count(user_id)

    def score_candidates(
        self, user_id: str, *, now: datetime | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The scoring step alone: (candidate item rows, blended relevance). For benchmarks."""
        taste = self.profiles.profile(user_id, self._now(now))
        if not taste.has_taste:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        user = self._user_vector(user_id, taste)
        scored = score_taste(
            self.items, self._models, self.config, taste.items, taste.weights, user=user
        )
        return scored.cand, scored.base

    def score_all(self, user_id: str | None, taste: Profile) -> Scored:
        """A taste scored over every item (for lists that rank the whole catalog), with the
        listener's factor vector as ``recommend`` uses it."""
        models, cfg = self._models, self.config
        user = self._user_vector(user_id, taste)
        scored = score_taste(self.items, models, cfg, taste.items, taste.weights, user=user)
        return widen(self.items, models, cfg, scored, taste.items, taste.weights, user)

    def recommend(
        self,
        user_id: str | None,
        request: RecommendationRequest,
        *,
        now: datetime | None = None,
    ) -> list[Pick]:
        """Up to ``request.first`` picks for a user (or anonymous), best first."""
        items, cfg, k = self.items, self.config, request.first
        if len(items) == 0 or k <= 0:
            return []
        history = self.profiles.profile(user_id, self._now(now))
        seeds = items.song_rows(map(str, request.seeds))
        drop = np.concatenate([history.excluded, seeds, items.song_rows(request.exclude)])
        taste = Profile.of_seeds(seeds) if seeds.size else history
        personal = None
        if taste.has_taste:
            user = self._user_vector(None if seeds.size else user_id, taste)
            personal = self._personal(taste, request, drop, user)
        scored: Scored | None = None
        if personal is not None:
            scored, valid = personal
            cand = scored.cand
            # popularity breaks ties among items the taste says nothing about
            pop = items.popular_score if scored.dense else items.popular_score[cand]
            ranked = final_scores(scored, valid, k, cfg.broad_tail) if self.factors else scored.base
            base = ranked + 1e-3 * pop
            shown = scored.base + 1e-3 * pop  # the relevance a client reads (no tail band)
        else:
            if request.steered:
                cand, base = items.arange, items.popular_score
            else:
                cand = items.popular_candidates(
                    drop, request.genre, max(cfg.pool, 10 * k), request.language, request.country
                )
                base = items.popular_score if items.is_all(cand) else items.popular_score[cand]
            valid = items.valid_at(cand, drop, request.genre, request.language, request.country)
            shown = base
        kept = valid
        steer = request.steering
        if steer is not None:
            valid = kept & steer.eligible(items, cand)
            scale, offset = steer.adjustment(items, cand, history)
            same = shown is base  # (checked before ``base`` is rebound)
            base = (scale * base + offset).astype(np.float32)
            shown = base if same else (scale * shown + offset).astype(np.float32)
        if request.steered:
            kept = valid
            same = shown is base
            valid, base = steer_by_mood(
                items, cfg, request, cand, base, kept, personal=scored is not None
            )
            if same:
                shown = base
            else:
                shown = steer_by_mood(
                    items, cfg, request, cand, shown, kept, personal=scored is not None
                )[1]
        sel = np.flatnonzero(valid)
        chosen_at = select(
            items,
            cand[sel],
            base[sel],
            k,
            request.diversity,
            request.max_per_artist,
            cfg.pool,
        )
        positions = sel[chosen_at]
        return self._picks(
            request, taste, scored, cand[positions], positions, shown, bool(seeds.size)
        )

    def similar(self, item_id: str, k: int = 20, *, max_per_artist: int = 0) -> list[Pick]:
        """Songs like one song: its CF neighbours blended with audio similarity."""
        items = self.items
        row = items.song_row(str(item_id))
        if row is None or k <= 0:
            return []
        cand, base, cf, content = score_similar(items, self.graphs, self.config, row)
        unsupported = ~items.cf_supported[cand]
        if unsupported.any():  # songs only fresh accounts hold: by their sound alone
            cw = float(items.content_weight[row])
            cf = np.where(unsupported, 0.0, cf).astype(np.float32)
            base = np.where(unsupported, cw * content, base)
        valid = items.valid_at(cand, np.array([row], dtype=np.int64), None)
        sel = np.flatnonzero(valid)
        positions = sel[
            select(items, cand[sel], base[sel], k, 0.0, max_per_artist, self.config.pool)
        ]
        cw = float(items.content_weight[row])
        chosen = cand[positions]
        links = self.links.basis(
            np.full(chosen.size, row, dtype=np.int64), chosen, self.config.min_support
        )
        picks: list[Pick] = []
        cap = 1.0
        for p, link in zip(positions.tolist(), links, strict=True):
            # a link too few playlists or established listeners make is not named: the pick
            # is said by its sound
            use_cf = link is not None and (1.0 - cw) * cf[p] >= cw * content[p]
            score = cap = min(cap, float(np.clip(base[p], 0.0, 1.0)))
            picks.append(
                Pick(
                    items.ids[int(cand[p])],
                    score,
                    Source.COLLABORATIVE if use_cf else Source.CONTENT,
                    (items.ids[row],),
                    basis=link if use_cf else Basis.SOUND,
                )
            )
        return picks

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _now(now: datetime | None) -> float:
        return timestamp(now) if now is not None else time.time()

    @property
    def _models(self) -> CFModels:
        return CFModels(self.graphs, self.factors)

    def _user_vector(self, user_id: str | None, taste: Profile) -> np.ndarray | None:
        """The taste's factor vector: the trained one while the listener's history is the
        build's, else folded in (cached until the listener's next event; seeds: never)."""
        if self.factors is None:
            return None
        if user_id is None:
            return self.factors.fold_in(taste.items, taste.weights)
        key = str(user_id)
        trained = self.factors.users.get(key)
        if trained is not None:
            return trained
        if key not in self._folded:
            self._folded[key] = self.factors.fold_in(taste.items, taste.weights)
        return self._folded[key]

    def _personal(
        self,
        taste: Profile,
        request: RecommendationRequest,
        drop: np.ndarray,
        user: np.ndarray | None,
    ) -> tuple[Scored, np.ndarray] | None:
        """The taste scored once, with each candidate's eligibility (None when nothing
        eligible resembles it).

        On a shortlist, a mood adds its best matches to the candidates up front, and a genre,
        language or country too rare for the shortlist widens the same pass to every item.
        """
        items, cfg = self.items, self.config
        extra = None
        if items.ivf is not None and request.steered:
            extra = best_mood_rows(items, request, cfg.content_candidates)
        models = self._models
        scored = score_taste(items, models, cfg, taste.items, taste.weights, user=user, extra=extra)
        filters = (request.genre, request.language, request.country)
        if (
            not scored.dense
            and any(filters)
            and int(items.valid_at(scored.cand, drop, *filters).sum()) < max(4 * request.first, 100)
        ):
            scored = widen(items, models, cfg, scored, taste.items, taste.weights, user)
        valid = items.valid_at(scored.cand, drop, *filters)
        if not (scored.base[valid] > 0).any():
            # a taste nothing is similar to (e.g. one song without features or neighbours)
            return None
        return scored, valid

    def _picks(
        self,
        request: RecommendationRequest,
        taste: Profile,
        scored: Scored | None,
        chosen: np.ndarray,
        positions: np.ndarray,
        base: np.ndarray,
        seeded: bool,
    ) -> list[Pick]:
        """Picks with their source and evidence, in the re-ranked order; each score is the
        pick's relevance capped by the one above it, so scores never rise down the list
        (the tail's broad picks and the diversity re-rank may place a less relevant song
        earlier)."""
        items = self.items
        liked = None if seeded else taste.liked
        evidence = (
            evidence_for(
                items, self.graphs, self.links, chosen.tolist(), taste.items, taste.weights, liked
            )
            if scored is not None
            else {}
        )
        mood = Mood(request.mood) if request.mood is not None else None
        inside = (
            in_region(items.unit[chosen], mood, valence=request.valence, energy=request.energy)
            if request.steered
            else None
        )
        fallback = Source.MOOD if request.steered else Source.POPULAR
        picks: list[Pick] = []
        cap = 1.0
        for n, (j, p) in enumerate(zip(chosen.tolist(), positions.tolist(), strict=True)):
            score = cap = min(cap, float(np.clip(base[p], 0.0, 1.0)))
            source = fallback
            because: tuple[str, ...] = ()
            basis: Basis | None = None
            if scored is not None and scored.cf[p] + scored.content[p] > 0:
                use_cf = scored.uses_cf(p, float(items.content_weight[j]))
                if use_cf and not evidence[(j, True)].ids:
                    # no link enough established playlists or listeners make: name the sound
                    use_cf = False
                if seeded:
                    source = Source.SEED
                else:
                    source = Source.COLLABORATIVE if use_cf else Source.CONTENT
                because, basis = evidence[(j, use_cf)].ids, evidence[(j, use_cf)].basis
            vibe = None
            if inside is not None:
                vibe = Vibe(mood, request.valence, request.energy, bool(inside[n]))
            picks.append(Pick(items.ids[j], score, source, because, mood, basis, vibe))
        return picks
