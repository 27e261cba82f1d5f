"""Account operations: register, log in, tokens, the caller's profile."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from madhur_gql.graphql.context import Context
from madhur_gql.graphql.inputs import RegisterInput
from madhur_gql.graphql.types import AuthPayload, User
from madhur_gql.services.accounts import Session


def auth_payload(context: Context, session: Session) -> AuthPayload:
    return AuthPayload(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=context.settings.access_token_minutes * 60,
        user=User.from_document(session.user),
    )


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The caller's account.")
    async def me(self, info: Info[Context, None]) -> User:
        return User.from_document(await info.context.require_user())


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="Create an account and log in.")
    async def register(self, info: Info[Context, None], input: RegisterInput) -> AuthPayload:
        session = await info.context.services.accounts.register(
            input.email, input.password, input.display_name
        )
        return auth_payload(info.context, session)

    @strawberry.mutation
    async def login(self, info: Info[Context, None], email: str, password: str) -> AuthPayload:
        session = await info.context.services.accounts.login(email, password)
        return auth_payload(info.context, session)

    @strawberry.mutation(
        description="Trade a refresh token for a new pair. Each refresh token works once."
    )
    async def refresh_token(self, info: Info[Context, None], refresh_token: str) -> AuthPayload:
        session = await info.context.services.accounts.refresh(refresh_token)
        return auth_payload(info.context, session)

    @strawberry.mutation(description="End the session this refresh token belongs to.")
    async def logout(self, info: Info[Context, None], refresh_token: str) -> bool:
        return await info.context.services.accounts.logout(refresh_token)

    @strawberry.mutation(description="End all of the caller's sessions; returns how many.")
    async def logout_everywhere(self, info: Info[Context, None]) -> int:
        user = await info.context.require_user()
        assert user.id is not None
        return await info.context.services.accounts.logout_everywhere(user.id)
