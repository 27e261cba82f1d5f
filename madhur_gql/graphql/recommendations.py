"""Recommendation operations: personal picks, moods, seeds and sound targets, similar songs."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from madhur_gql.domain.ids import parse_object_id
from madhur_gql.domain.song_fields import MAX_GENRE
from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.context import Context
from madhur_gql.graphql.cursors import check_page_size
from madhur_gql.graphql.inputs import AudioTargetsInput
from madhur_gql.graphql.types import Mood, Recommendation
from madhur_gql.services.catalog import songs as catalog
from madhur_gql.services.recommendations import MAX_RECOMMENDATIONS, RecommendationRequest
from madhur_gql.services.recommendations.seeds import seed_songs
from madhur_gql.services.recommendations.steering import steering_for

MAX_SEED_SONGS = 50
MAX_EXCLUDED_SONGS = 500


def _unit(value: float | None, name: str) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise BadUserInput(f"'{name}' must be between 0 and 1.", field=name)
    return value


@strawberry.type
class RecommendationQuery:
    @strawberry.field(
        description=(
            "Songs picked for the caller: a hybrid of what similar listeners play and what "
            "sounds like the caller's songs, without songs they disliked or skipped and without "
            "artists they hid; songs in their preferred languages or from their country are "
            "lifted. `mood` or `valence`/`energy` steer it; `seedSongIds`, `seedArtistIds` "
            "(at most 5) and `seedGenres` (at most 5) ask for more like those; "
            "`excludeSongIds` leaves songs out; `audio` sets hard `min`/`max` bounds and "
            "`target` values per audio feature."
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
        exclude_song_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Songs never to list (at most 500)."),
        ] = None,
        seed_artist_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="More like these artists (at most 5)."),
        ] = None,
        seed_genres: Annotated[
            list[str] | None,
            strawberry.argument(description="More like the best of these genres (at most 5)."),
        ] = None,
        audio: Annotated[
            AudioTargetsInput | None,
            strawberry.argument(description="Per-feature hard bounds and targets."),
        ] = None,
    ) -> list[Recommendation]:
        user = await info.context.require_user()
        check_page_size(first, maximum=MAX_RECOMMENDATIONS)
        seeds: list[str] = [str(s) for s in seed_song_ids or []]
        if len(seeds) > MAX_SEED_SONGS:
            raise BadUserInput(f"At most {MAX_SEED_SONGS} seed songs.", field="seedSongIds")
        if genre is not None and len(genre) > MAX_GENRE:
            raise BadUserInput(f"A genre is at most {MAX_GENRE} characters.", field="genre")
        excluded = exclude_song_ids or []
        if len(excluded) > MAX_EXCLUDED_SONGS:
            raise BadUserInput(
                f"At most {MAX_EXCLUDED_SONGS} excluded songs.", field="excludeSongIds"
            )
        services = info.context.services
        seeds += seed_songs(services.browser, seed_artist_ids or [], seed_genres or [])
        steering = await steering_for(
            user,
            services.settings.local_lift,
            features=audio.to_bounds() if audio else (),
            seed_genres=seed_genres or (),
        )
        request = RecommendationRequest(
            first=first,
            mood=mood,
            valence=_unit(valence, "valence"),
            energy=_unit(energy, "energy"),
            seeds=tuple(seeds),
            genre=genre,
            diversity=_unit(diversity, "diversity") or 0.0,
            exclude=frozenset(str(parse_object_id(s, field="excludeSongIds")) for s in excluded),
            steering=steering,
        )
        results = await services.recommendations.recommend(
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
