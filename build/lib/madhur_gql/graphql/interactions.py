"""Interaction operations: record what a listener did, read their history."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from madhur_gql.graphql.context import Context
from madhur_gql.graphql.inputs import RecordInteractionInput
from madhur_gql.graphql.types import Connection, Interaction
from madhur_gql.services import interactions


@strawberry.type
class InteractionQuery:
    @strawberry.field(description="The caller's listening history, newest first.")
    async def my_history(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[Interaction]:
        user = await info.context.require_user()
        assert user.id is not None
        page = await interactions.user_history(user.id, first=first, after=after)
        nodes = [Interaction.from_document(item) for item in page.items]
        return Connection.of(nodes, page.offset, page.total)


@strawberry.type
class InteractionMutation:
    @strawberry.mutation(description="Record a play, like, skip or rating of a song.")
    async def record_interaction(
        self, info: Info[Context, None], input: RecordInteractionInput
    ) -> Interaction:
        user = await info.context.require_user()
        interaction = await info.context.services.listening.record(
            user, input.song_id, input.kind, input.rating, input.idempotency_key
        )
        return Interaction.from_document(interaction)
