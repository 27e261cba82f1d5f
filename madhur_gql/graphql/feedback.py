"""Negative feedback beyond interactions: artists a listener never wants to hear."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from madhur_gql.graphql.context import Context
from madhur_gql.graphql.types import Artist
from madhur_gql.services.recommendations import hidden


@strawberry.type
class FeedbackQuery:
    @strawberry.field(description="Artists the caller hid, in the order they hid them.")
    async def my_hidden_artists(self, info: Info[Context, None]) -> list[Artist]:
        user = await info.context.require_user()
        return [Artist.from_document(a) for a in await hidden.hidden_artists(user)]


@strawberry.type
class FeedbackMutation:
    @strawberry.mutation(
        description=(
            "Hide an artist: none of their songs in the caller's recommendations, radio, "
            "journeys or mixes until `unhideArtist`. Hiding twice is hiding once."
        )
    )
    async def hide_artist(
        self,
        info: Info[Context, None],
        artist_id: Annotated[strawberry.ID, strawberry.argument(description="The artist.")],
    ) -> Artist:
        user = await info.context.require_user()
        return Artist.from_document(await hidden.hide_artist(user, artist_id))

    @strawberry.mutation(description="Let a hidden artist back into the caller's lists.")
    async def unhide_artist(
        self,
        info: Info[Context, None],
        artist_id: Annotated[strawberry.ID, strawberry.argument(description="The artist.")],
    ) -> Artist:
        user = await info.context.require_user()
        return Artist.from_document(await hidden.unhide_artist(user, artist_id))
