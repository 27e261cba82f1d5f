"""Generated playlists: mood journeys and taste mixes, personal when the listener has history.

Both read the engine the recommendation service holds: the listener's profile, the scorer for
their taste, and their ``Steering`` (hidden artists, dislikes, local lift), so these lists obey
the same rules as ``recommendations``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np

from madhur_gql.errors import ServiceUnavailable
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.explain import evidence_for
from madhur_gql.recommender.journey import journey
from madhur_gql.recommender.mixes import TasteCluster, genre_label, taste_clusters
from madhur_gql.recommender.mood import Mood, in_region
from madhur_gql.recommender.steering import Steering
from madhur_gql.recommender.values import Pick, RecommendationRequest, Source, Vibe
from madhur_gql.services.recommendations.service import Recommendation, RecommendationService

FAVOURITE_SHARE = 3  # one rested favourite in every this many songs of a mix
RESTED = "A favourite you have not played for a while"


@dataclass(frozen=True, slots=True)
class GeneratedMix:
    id: str
    title: str
    description: str
    songs: list[Recommendation]


def _engine(recommendations: RecommendationService) -> RecommenderEngine:
    engine = recommendations.engine
    if engine is None:
        raise ServiceUnavailable(
            "Generated playlists start once the recommender is built; try again shortly.",
            retryAfter=5,
        )
    return engine


class GeneratedLists:
    def __init__(self, recommendations: RecommendationService) -> None:
        self.recommendations = recommendations

    async def mood_journey(
        self, user_id: str, start: Mood, end: Mood, length: int, steering: Steering
    ) -> list[Recommendation]:
        """``length`` songs from ``start``'s region to ``end``'s; see recommender.journey."""
        engine = _engine(self.recommendations)
        items = engine.items
        profile = engine.profiles.profile(user_id, time.time())
        valid = items.alive.copy()
        valid[profile.excluded] = False
        scored = None
        if profile.has_taste:
            scored = engine.score_all(user_id, profile)
            score = scored.base + 0.05 * items.popular_score
        else:
            score = items.popular_score
        valid, score = steering.apply(items, items.arange, score, valid, profile)
        path = journey(items, start, end, length, score, valid)
        rows = [row for row, _ in path]
        evidence = (
            evidence_for(
                items,
                engine.graphs,
                engine.links,
                rows,
                profile.items,
                profile.weights,
                profile.liked,
            )
            if scored is not None
            else {}
        )
        picks: list[Pick] = []
        for row, closeness in path:
            source = Source.MOOD
            because: tuple[str, ...] = ()
            basis = None
            if scored is not None and scored.cf[row] + scored.content[row] > 0:
                use_cf = scored.uses_cf(row, float(items.content_weight[row]))
                if use_cf and not evidence[(row, True)].ids:
                    use_cf = False
                source = Source.COLLABORATIVE if use_cf else Source.CONTENT
                because, basis = evidence[(row, use_cf)].ids, evidence[(row, use_cf)].basis
            half = Mood(start if len(picks) < length / 2 else end)
            # only a song inside the mood's region is said to match it (the path between
            # the two regions is neither mood)
            vibe = Vibe(half, inside=True) if in_region(items.unit[[row]], half)[0] else None
            picks.append(Pick(items.ids[row], closeness, source, because, half, basis, vibe))
        results = await self.recommendations.explain(picks)
        a, b = start.value.lower(), end.value.lower()
        for step, result in enumerate(results, start=1):
            result.reasons.insert(0, f"Step {step} of {len(results)} from {a} to {b}")
        return results

    async def mixes(
        self,
        user_id: str,
        count: int,
        size: int,
        steering: Steering,
        favourite_genres: list[str],
    ) -> list[GeneratedMix]:
        """Up to ``count`` mixes of ``size`` songs: taste clusters, then genre mixes."""
        engine = _engine(self.recommendations)
        items = engine.items
        profile = engine.profiles.profile(user_id, time.time())
        clusters = taste_clusters(items, profile, count)
        used: set[str] = set()
        mixes: list[GeneratedMix] = []
        for cluster in clusters:
            picks, favourites = self._cluster_picks(engine, user_id, cluster, size, steering, used)
            if not picks:
                continue
            songs = await self.recommendations.explain(picks)
            for song in songs:
                if str(song.song.id) in favourites:
                    song.reasons[:] = [RESTED]
            used.update(str(s.song.id) for s in songs)
            artists = list(dict.fromkeys(s.song.artist for s in songs))[:3]
            sound = f"{cluster.sound} " if cluster.sound else ""
            genres = " and ".join(genre_label(g) for g in cluster.genres) or "songs"
            description = f"{sound}{genres} with {', '.join(artists)} and more"
            mixes.append(
                GeneratedMix(
                    _mix_id(user_id, cluster.title),
                    cluster.title,
                    description[:1].upper() + description[1:],
                    songs,
                )
            )
        taken = {g for c in clusters for g in c.genres}
        for genre in self._genres_for(engine, favourite_genres, taken):
            if len(mixes) >= count:
                break
            request = RecommendationRequest(
                first=size, genre=genre, exclude=frozenset(used), steering=steering
            )
            songs = await self.recommendations.explain(engine.recommend(user_id, request))
            if not songs:
                continue
            used.update(str(s.song.id) for s in songs)
            title = genre_label(genre)
            title = title[:1].upper() + title[1:]
            mixes.append(
                GeneratedMix(
                    _mix_id(user_id, title),
                    title,
                    f"The best of {genre_label(genre)} for you",
                    songs,
                )
            )
        return mixes[:count]

    def _cluster_picks(
        self,
        engine: RecommenderEngine,
        user_id: str,
        cluster: TasteCluster,
        size: int,
        steering: Steering,
        used: set[str],
    ) -> tuple[list[Pick], set[str]]:
        """New picks seeded by the cluster with its rested favourites mixed in, and the ids of
        those favourites."""
        items = engine.items
        rested = np.asarray([r for r in cluster.rested if items.ids[r] not in used], dtype=np.int64)
        if rested.size:
            rested = rested[steering.eligible(items, rested)]
        favourites = rested[: max(1, size // FAVOURITE_SHARE)].tolist()
        fav_ids = [items.ids[r] for r in favourites]
        request = RecommendationRequest(
            first=size - len(favourites),
            seeds=tuple(items.ids[r] for r in cluster.seeds),
            exclude=frozenset(used | {items.ids[r] for r in cluster.rested}),
            steering=steering,
        )
        fresh = engine.recommend(user_id, request)
        out: list[Pick] = []
        fav = iter(fav_ids)
        for pick in fresh:
            if len(out) % FAVOURITE_SHARE == FAVOURITE_SHARE - 1:
                favourite = next(fav, None)
                if favourite is not None:
                    out.append(Pick(favourite, 1.0, Source.COLLABORATIVE, (), None))
            out.append(pick)
        out.extend(Pick(f, 1.0, Source.COLLABORATIVE, (), None) for f in fav)
        return out[:size], set(fav_ids)

    def _genres_for(
        self, engine: RecommenderEngine, favourites: list[str], taken: set[str]
    ) -> list[str]:
        """Favourite genres first, then the catalog's biggest genres."""
        counts: dict[str, int] = {}
        for genres in engine.items.genres:
            for g in genres:
                counts[g] = counts.get(g, 0) + 1
        biggest = sorted(counts, key=lambda g: -counts[g])
        wanted = [g.lower() for g in favourites] + biggest
        return [g for g in dict.fromkeys(wanted) if g not in taken and g in counts]


def _mix_id(user_id: str, title: str) -> str:
    return "mix-" + hashlib.blake2b(f"{user_id}:{title}".encode(), digest_size=8).hexdigest()
