from __future__ import annotations

import strawberry
from strawberry.types import Info

from madhur_gql.graphql.context import Context
from madhur_gql.graphql.inputs import RecordInteractionInput, RegisterInput
from madhur_gql.graphql.types import AuthPayload, Interaction, User
from madhur_gql.services.accounts import Session
from madhur_gql.services.interactions import record_interaction


def _payload(context: Context, session: Session) -> AuthPayload:
    return AuthPayload(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=context.settings.access_token_minutes * 60,
        user=User.from_document(session.user),
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an account and log in.")
    async def register(self, info: Info[Context, None], input: RegisterInput) -> AuthPayload:
        session = await info.context.services.accounts.register(
            input.email, input.password, input.display_name
        )
        return _payload(info.context, session)

    @strawberry.mutation
    async def login(self, info: Info[Context, None], email: str, password: str) -> AuthPayload:
        session = await info.context.services.accounts.login(email, password)
        return _payload(info.context, session)

    @strawberry.mutation(
        description="Trade a refresh token for a new pair. Each refresh token works once."
    )
    async def refresh_token(self, info: Info[Context, None], refresh_token: str) -> AuthPayload:
        session = await info.context.services.accounts.refresh(refresh_token)
        return _payload(info.context, session)

    @strawberry.mutation(description="End the session this refresh token belongs to.")
    async def logout(self, info: Info[Context, None], refresh_token: str) -> bool:
        return await info.context.services.accounts.logout(refresh_token)

    @strawberry.mutation(description="End all of the caller's sessions; returns how many.")
    async def logout_everywhere(self, info: Info[Context, None]) -> int:
        user = await info.context.require_user()
        assert user.id is not None
        return await info.context.services.accounts.logout_everywhere(user.id)

    @strawberry.mutation(description="Record a play, like, skip or rating of a song.")
    async def record_interaction(
        self, info: Info[Context, None], input: RecordInteractionInput
    ) -> Interaction:
        user = await info.context.require_user()
        interaction = await record_interaction(
            info.context.services.recommendations,
            user,
            input.song_id,
            input.kind,
            input.rating,
        )
        return Interaction.from_document(interaction)
