"""Interaction operations: record what a listener did, read their history."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from madhur_gql.graphql.context import Context
from madhur_gql.graphql.cursors import window
from madhur_gql.graphql.inputs import RecordInteractionInput
from madhur_gql.graphql.types import Connection, Interaction
from madhur_gql.services.library import history


@strawberry.type
class InteractionQuery:
    @strawberry.field(description="The caller's listening history, newest first.")
    async def my_history(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[Interaction]:
        user = await info.context.require_user()
        assert user.id is not None
        offset, limit = window(first, after)
        page = await history.user_history(user.id, offset=offset, limit=limit)
        nodes = [Interaction.from_document(item) for item in page.items]
        return Connection.of(nodes, page.offset, page.total)


@strawberry.type
class InteractionMutation:
    @strawberry.mutation(
        description=(
            'Record a play, like, skip, rating or dislike ("not for me") of a song. '
            "`playedSeconds` with PLAY or SKIP says how far the listener got."
        )
    )
    async def record_interaction(
        self, info: Info[Context, None], input: RecordInteractionInput
    ) -> Interaction:
        user = await info.context.require_user()
        interaction = await info.context.services.history.add(
            user,
            input.song_id,
            input.kind,
            input.rating,
            input.idempotency_key,
            input.played_seconds,
            input.list_id,
        )
        return Interaction.from_document(interaction)
