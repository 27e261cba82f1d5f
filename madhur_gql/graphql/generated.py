"""Generated playlists: mood journeys and the caller's taste mixes."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from madhur_gql.documents import ListKind
from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.context import Context
from madhur_gql.graphql.types import Mood, Recommendation
from madhur_gql.services.recommendations import JOURNEY_ENDS as ENDS
from madhur_gql.services.recommendations import JOURNEY_REGION as REGION
from madhur_gql.services.recommendations import MAX_RECOMMENDATIONS
from madhur_gql.services.recommendations import Mood as MoodValue
from madhur_gql.services.recommendations.steering import steering_for

MIN_JOURNEY = 2 * ENDS
MAX_MIXES = 10


def _between(value: int, low: int, high: int, field: str) -> int:
    if not low <= value <= high:
        raise BadUserInput(f"'{field}' must be between {low} and {high}.", field=field)
    return value


@strawberry.type(description="One of the caller's taste mixes, named from what it holds.")
class Mix:
    id: strawberry.ID = strawberry.field(description="Stable for the same listener and title.")
    title: str = strawberry.field(description='From its leading genres, e.g. "Rock and latin".')
    description: str = strawberry.field(
        description='Its sound and artists, e.g. "Calm acoustic pop with Coldplay and more".'
    )
    songs: list[Recommendation] = strawberry.field(
        description="New picks in this taste, with favourites not played for a while."
    )


@strawberry.type
class GeneratedQuery:
    @strawberry.field(
        description=(
            "An ordered list whose valence and energy move smoothly from the `from` mood's "
            "region to the `to` mood's (the iso principle: meet the listener where they are, "
            f"then lead). The first {ENDS} songs are in the start region and the last {ENDS} "
            f"in the end region (within {REGION} of the mood's valence-energy point); no "
            "artist plays twice in a row; with history, the songs are the caller's kind. "
            f"`length` {MIN_JOURNEY}..{MAX_RECOMMENDATIONS}."
        )
    )
    async def mood_journey(
        self,
        info: Info[Context, None],
        from_: Annotated[
            Mood,  # type: ignore[valid-type]
            strawberry.argument(name="from", description="Where the journey starts."),
        ],
        to: Annotated[
            Mood,  # type: ignore[valid-type]
            strawberry.argument(description="Where it leads."),
        ],
        length: Annotated[
            int, strawberry.argument(description="Songs in the journey, at least 6.")
        ] = 20,
    ) -> list[Recommendation]:
        user = await info.context.require_user()
        _between(length, MIN_JOURNEY, MAX_RECOMMENDATIONS, "length")
        services = info.context.services
        steering = await steering_for(user, services.settings.local_lift)
        results = await services.lists.mood_journey(
            str(user.id), MoodValue(from_), MoodValue(to), length, steering
        )
        return Recommendation.served(info.context, ListKind.JOURNEY, results)

    @strawberry.field(
        description=(
            "The caller's taste split into up to `count` mixes of `size` songs (Daily Mix "
            "style): each a cluster of what they play, named from its genres and sound, with "
            "new picks and favourites they have not played for a while; no song is in two "
            "mixes. Listeners with little history get mixes of their favourite or the "
            f"catalog's biggest genres. `count` 1..{MAX_MIXES}, `size` 1..{MAX_RECOMMENDATIONS}."
        )
    )
    async def my_mixes(
        self,
        info: Info[Context, None],
        count: Annotated[int, strawberry.argument(description="At most this many mixes.")] = 4,
        size: Annotated[int, strawberry.argument(description="Songs per mix.")] = 20,
    ) -> list[Mix]:
        user = await info.context.require_user()
        _between(count, 1, MAX_MIXES, "count")
        _between(size, 1, MAX_RECOMMENDATIONS, "size")
        services = info.context.services
        steering = await steering_for(user, services.settings.local_lift)
        mixes = await services.lists.mixes(
            str(user.id), count, size, steering, list(user.favourite_genres)
        )
        return [
            Mix(
                id=strawberry.ID(m.id),
                title=m.title,
                description=m.description,
                songs=Recommendation.served(info.context, ListKind.MIX, m.songs),
            )
            for m in mixes
        ]
