"""Recommendation operations: personal picks, moods, seeds and sound targets, similar songs."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from madhur_gql.documents import ListKind
from madhur_gql.domain import locales
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.domain.song_fields import MAX_GENRE
from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.context import Context
from madhur_gql.graphql.cursors import check_page_size
from madhur_gql.graphql.inputs import AudioTargetsInput
from madhur_gql.graphql.types import Mood, Recommendation
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
        language: Annotated[
            str | None,
            strawberry.argument(
                description='Only songs in this language: ISO 639-1 ("ne"), any case. Songs '
                "whose language is unknown (every song of the demo catalog) never match."
            ),
        ] = None,
        country: Annotated[
            str | None,
            strawberry.argument(
                description='Only songs from this country: ISO 3166-1 alpha-2 ("NP"), any case.'
            ),
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
            language=locales.language(language) if language is not None else None,
            country=locales.country(country) if country is not None else None,
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
        return Recommendation.served(info.context, ListKind.RECOMMENDATIONS, results)

    @strawberry.field(description="Songs that sound like, and are played with, the given song.")
    async def similar_songs(
        self, info: Info[Context, None], song_id: strawberry.ID, first: int = 20
    ) -> list[Recommendation]:
        check_page_size(first, maximum=MAX_RECOMMENDATIONS)
        song = await info.context.services.songs.get(song_id, field="songId")
        results = await info.context.services.recommendations.similar(str(song.id), first)
        return Recommendation.served(info.context, ListKind.SIMILAR, results)


MIN_PUSH_SECONDS = 1.0  # a live list is pushed at most once a second
MAX_LEAD_SECONDS = 0.2


@strawberry.type
class RecommendationSubscription:
    @strawberry.subscription(
        description="The caller's recommendations, live (graphql-transport-ws on /graphql; the "
        "access token goes in the connection_init payload as `Authorization: Bearer ...`). "
        "The first list comes at once; a fresh one follows within a second of each of the "
        "caller's own plays, likes, skips and dislikes, made through any server, and never more "
        "than one a second (interactions in between are all in the next list). Each list has "
        "its own `listId`."
    )
    async def recommendations_updated(
        self,
        info: Info[Context, None],
        first: Annotated[int, strawberry.argument(description="Songs in each list, 1..100.")] = 20,
    ) -> AsyncGenerator[list[Recommendation], None]:
        user = await info.context.require_user()
        check_page_size(first, maximum=MAX_RECOMMENDATIONS)
        services = info.context.services
        lead = 0.0  # how long the last list took to compute: it is started that much early
        with services.recommendations.signals.watch(str(user.id)) as changed:
            pushed = -math.inf
            while True:
                started = time.monotonic()
                if pushed > -math.inf:
                    user = await info.context.renew()  # a revoked session ends the list here
                steering = await steering_for(user, services.settings.local_lift)
                results = await services.recommendations.recommend(
                    str(user.id),
                    RecommendationRequest(first=first, steering=steering),
                    favourite_genres=user.favourite_genres,
                    favourite_moods=user.favourite_moods,
                )
                items = Recommendation.served(info.context, ListKind.LIVE, results)
                lead = min(time.monotonic() - started, MAX_LEAD_SECONDS)
                # Sent exactly one second after the previous one when a change came sooner.
                await asyncio.sleep(max(0.0, pushed + MIN_PUSH_SECONDS - time.monotonic()))
                yield items
                pushed = time.monotonic()
                await changed.wait()
                wake_at = pushed + MIN_PUSH_SECONDS - lead
                await asyncio.sleep(max(0.0, wake_at - time.monotonic()))
                changed.clear()  # every change so far is in the list computed next
