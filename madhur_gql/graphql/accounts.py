"""Account operations: register, log in, tokens, the caller's profile."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from madhur_gql.errors import TooManyRequests
from madhur_gql.graphql.context import Context
from madhur_gql.graphql.inputs import RegisterInput, UpdateMeInput
from madhur_gql.graphql.types import AuthPayload, User
from madhur_gql.services.accounts.service import ActiveSession, Session


def auth_payload(context: Context, session: Session) -> AuthPayload:
    return AuthPayload(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=context.settings.access_token_minutes * 60,
        user=User.from_document(session.user),
    )


def client_address(context: Context) -> str | None:
    """The peer address (behind a proxy, run uvicorn with --proxy-headers so this is real)."""
    client = context.request.client
    return client.host if client else None


def spend_password_check(context: Context) -> None:
    """At most N password checks per HTTP request, counted on the request itself, so neither
    aliases (`a: login(...) b: login(...)`) nor batching multiply bcrypt work or guesses."""
    state = context.request.state
    spent = getattr(state, "password_checks", 0) + 1
    state.password_checks = spent
    limit = context.settings.max_password_checks_per_request
    if spent > limit:
        raise TooManyRequests(
            f"At most {limit} password check(s) per request; send another request.",
            retryAfter=0,
        )


@strawberry.type(name="Session", description="One of the caller's logins (devices).")
class SessionType:
    id: strawberry.ID
    last_used_at: datetime = strawberry.field(description="When it last logged in or refreshed.")
    expires_at: datetime = strawberry.field(description="Unless refreshed before then.")

    @classmethod
    def from_session(cls, session: ActiveSession) -> SessionType:
        return cls(
            id=strawberry.ID(session.id),
            last_used_at=session.last_used_at,
            expires_at=session.expires_at,
        )


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The caller's account.")
    async def me(self, info: Info[Context, None]) -> User:
        return User.from_document(await info.context.require_user(fresh=True))

    @strawberry.field(description="The caller's logins that can still be refreshed, newest first.")
    async def my_sessions(self, info: Info[Context, None]) -> list[SessionType]:
        user = await info.context.require_user()
        assert user.id is not None
        sessions = await info.context.services.accounts.sessions(user.id)
        return [SessionType.from_session(s) for s in sessions]


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="Create an account and log in.")
    async def register(self, info: Info[Context, None], input: RegisterInput) -> AuthPayload:
        spend_password_check(info.context)  # a bcrypt hash: as costly as a check
        session = await info.context.services.accounts.register(
            input.email, input.password, input.display_name, address=client_address(info.context)
        )
        return auth_payload(info.context, session)

    @strawberry.mutation(
        description="Log in. Repeated failures are throttled (TOO_MANY_REQUESTS, retryAfter)."
    )
    async def login(self, info: Info[Context, None], email: str, password: str) -> AuthPayload:
        spend_password_check(info.context)
        session = await info.context.services.accounts.login(
            email, password, client_address(info.context)
        )
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

    @strawberry.mutation(
        description="End all of the caller's sessions, this one included; returns how many."
    )
    async def logout_everywhere(self, info: Info[Context, None]) -> int:
        user = await info.context.require_user()
        assert user.id is not None
        return await info.context.services.accounts.logout_everywhere(user.id)

    @strawberry.mutation(description="End one of the caller's sessions (see `mySessions`).")
    async def revoke_session(self, info: Info[Context, None], id: strawberry.ID) -> bool:
        user = await info.context.require_user()
        assert user.id is not None
        await info.context.services.accounts.revoke_session(user.id, str(id))
        return True

    @strawberry.mutation(
        description="Change the caller's password. Every session ends; a new one is returned."
    )
    async def change_password(
        self, info: Info[Context, None], current: str, new: str
    ) -> AuthPayload:
        user = await info.context.require_user()
        spend_password_check(info.context)
        session = await info.context.services.accounts.change_password(
            user, current, new, client_address(info.context)
        )
        return auth_payload(info.context, session)

    @strawberry.mutation(
        description="Change the caller's profile; omitted fields stay as they are."
    )
    async def update_me(self, info: Info[Context, None], input: UpdateMeInput) -> User:
        user = await info.context.require_user()
        updated = await info.context.services.accounts.update_profile(
            user,
            display_name=input.display_name,
            favourite_genres=input.favourite_genres,
            favourite_moods=input.favourite_moods,
            preferred_languages=input.preferred_languages,
            country=input.country,
        )
        return User.from_document(updated)

    @strawberry.mutation(
        description="Delete the caller's account and everything of theirs. Needs the password."
    )
    async def delete_me(self, info: Info[Context, None], password: str) -> bool:
        user = await info.context.require_user()
        spend_password_check(info.context)
        await info.context.services.accounts.delete_account(
            user, password, client_address(info.context)
        )
        return True
