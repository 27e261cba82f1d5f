"""Recommendation operations: personal picks, moods, "more like these", similar songs."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.context import Context
from madhur_gql.graphql.types import Mood, Recommendation
from madhur_gql.services import catalog
from madhur_gql.services.pagination import check_page_size
from madhur_gql.services.recommendations import MAX_RECOMMENDATIONS, RecommendationRequest

MAX_SEED_SONGS = 50


def _unit(value: float | None, name: str) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise BadUserInput(f"'{name}' must be between 0 and 1.", field=name)
    return value


@strawberry.type
class RecommendationQuery:
    @strawberry.field(
        description=(
            "Songs picked for the caller: a hybrid of what similar listeners play and what "
            "sounds like the caller's songs. `mood` or `valence`/`energy` steer it; "
            "`seedSongIds` asks for more like those songs."
        )
    )
    async def recommendations(
        self,
        info: Info[Context, None],
        first: int = 20,
        mood: Mood | None = None,  # type: ignore[valid-type]
        valence: float | None = None,
        energy: float | None = None,
        seed_song_ids: list[strawberry.ID] | None = None,
        genre: str | None = None,
        diversity: float = 0.3,
    ) -> list[Recommendation]:
        user = await info.context.require_user()
        check_page_size(first, maximum=MAX_RECOMMENDATIONS)
        seeds = seed_song_ids or []
        if len(seeds) > MAX_SEED_SONGS:
            raise BadUserInput(f"At most {MAX_SEED_SONGS} seed songs.", field="seedSongIds")
        request = RecommendationRequest(
            first=first,
            mood=mood,
            valence=_unit(valence, "valence"),
            energy=_unit(energy, "energy"),
            seeds=tuple(seeds),
            genre=genre,
            diversity=_unit(diversity, "diversity") or 0.0,
        )
        results = await info.context.services.recommendations.recommend(
            str(user.id),
            request,
            favourite_genres=user.favourite_genres,
            favourite_moods=user.favourite_moods,
        )
        return [Recommendation.from_result(r) for r in results]

    @strawberry.field(description="Songs that sound like, and are played with, the given song.")
    async def similar_songs(
        self, info: Info[Context, None], song_id: strawberry.ID, first: int = 20
    ) -> list[Recommendation]:
        check_page_size(first, maximum=MAX_RECOMMENDATIONS)
        song = await catalog.get_song(song_id)
        results = await info.context.services.recommendations.similar(str(song.id), first)
        return [Recommendation.from_result(r) for r in results]
