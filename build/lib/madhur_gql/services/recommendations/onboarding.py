"""Listeners with no history yet: steered by the genres and moods they chose at sign-up."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.mood import Mood
from madhur_gql.recommender.values import Pick, RecommendationRequest

MAX_FAVOURITE_GENRES = 5


def with_favourite_mood(
    request: RecommendationRequest, favourite_moods: Sequence[str]
) -> RecommendationRequest:
    """The first favourite mood, unless the request already steers by mood or targets."""
    if request.steered or not favourite_moods:
        return request
    return dataclasses.replace(request, mood=Mood(favourite_moods[0]))


def onboarding_genres(request: RecommendationRequest, favourite_genres: Sequence[str]) -> list[str]:
    """The favourite genres that steer this request (none when it names seeds or a genre)."""
    if request.seeds or request.genre is not None:
        return []
    return [g.lower() for g in favourite_genres][:MAX_FAVOURITE_GENRES]


def onboarding_picks(
    engine: RecommenderEngine,
    user_id: str | None,
    request: RecommendationRequest,
    genres: Sequence[str],
    genre_seeds: Callable[[str], list[str]],
) -> list[Pick]:
    """Songs like the best of each chosen genre, the genres taking turns."""
    per_genre = [
        engine.recommend(
            user_id,
            dataclasses.replace(request, seeds=tuple(genre_seeds(genre)), genre=genre),
        )
        for genre in genres
    ]
    picks: dict[str, Pick] = {}
    for rank in range(request.first):
        for genre_picks in per_genre:
            if rank < len(genre_picks) and len(picks) < request.first:
                picks.setdefault(genre_picks[rank].item_id, genre_picks[rank])
    return list(picks.values())
