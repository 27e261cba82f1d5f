"""The per-request context: the bearer token is decoded here, once, for every resolver."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TypeVar

from beanie import PydanticObjectId
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from madhur_gql.auth.tokens import AccessClaims, VerifiedTokens
from madhur_gql.config import Settings
from madhur_gql.documents import Artist, Role, Song, User
from madhur_gql.documents.spotify import SpotifyTrackInfo
from madhur_gql.errors import Forbidden, Unauthenticated
from madhur_gql.graphql.cost import CostMeter
from madhur_gql.metrics import Metrics
from madhur_gql.services.accounts.service import AccountService, users_by_ids
from madhur_gql.services.catalog.admin import SongAdmin
from madhur_gql.services.catalog.artists import artists_by_ids
from madhur_gql.services.catalog.browse import SongBrowser
from madhur_gql.services.catalog.songs import songs_by_ids
from madhur_gql.services.catalog.store import SongStore
from madhur_gql.services.library.history import ListeningHistory
from madhur_gql.services.library.likes import LikeLookups
from madhur_gql.services.recommendations import RecommendationService
from madhur_gql.services.recommendations.lists import GeneratedLists
from madhur_gql.services.recommendations.radio import RadioService
from madhur_gql.services.recommendations.served_lists import ServedLists
from madhur_gql.services.spotify.cache import load_artist_images, load_track_infos
from madhur_gql.services.spotify.service import SpotifyService

ItemT = TypeVar("ItemT")


@dataclass
class Services:
    """Long-lived objects shared by all requests (built once in the app's lifespan)."""

    settings: Settings
    accounts: AccountService
    browser: SongBrowser
    recommendations: RecommendationService
    history: ListeningHistory
    songs: SongStore
    song_admin: SongAdmin
    radio: RadioService
    lists: GeneratedLists
    metrics: Metrics
    served_lists: ServedLists
    likes: LikeLookups = field(default_factory=LikeLookups)
    spotify: SpotifyService = field(default_factory=SpotifyService.off)
    tokens: VerifiedTokens = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = VerifiedTokens(self.settings)


def _in_order(
    fetch: Callable[[Sequence[PydanticObjectId]], Awaitable[dict[PydanticObjectId, ItemT]]],
) -> Callable[[list[PydanticObjectId]], Awaitable[list[ItemT | None]]]:
    """A DataLoader batch function from a service's "these ids, by id" lookup."""

    async def load(keys: list[PydanticObjectId]) -> list[ItemT | None]:
        found = await fetch(keys)
        return [found.get(key) for key in keys]

    return load


class Loaders:
    """Per-request DataLoaders: N resolvers asking for N songs make one query.

    Each is made when a resolver first asks for it: most requests use one or none, and
    building all of them was a measurable part of a small request's CPU.
    """

    def __init__(
        self,
        songs: Callable[
            [Sequence[PydanticObjectId]], Awaitable[dict[PydanticObjectId, Song]]
        ] = songs_by_ids,
    ) -> None:
        self._songs = songs
        self.liked: DataLoader[PydanticObjectId, bool] | None = None

    @cached_property
    def song(self) -> DataLoader[PydanticObjectId, Song | None]:
        return DataLoader(load_fn=_in_order(self._songs))

    @cached_property
    def artist(self) -> DataLoader[PydanticObjectId, Artist | None]:
        return DataLoader(load_fn=_in_order(artists_by_ids))

    @cached_property
    def user(self) -> DataLoader[PydanticObjectId, User | None]:
        return DataLoader(load_fn=_in_order(users_by_ids))

    @cached_property
    def spotify_track(self) -> DataLoader[str, SpotifyTrackInfo | None]:
        return DataLoader(load_fn=load_track_infos)

    @cached_property
    def spotify_artist_image(self) -> DataLoader[str, str | None]:
        return DataLoader(load_fn=load_artist_images)


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    services: Services
    claims: AccessClaims | None = None
    auth_error: Unauthenticated | None = None
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, object] | None = None  # graphql-transport-ws connection_init
    cost: CostMeter | None = None  # set when execution starts (graphql/cost.py)
    deadline: asyncio.Timeout | None = None  # armed for queries (graphql/cost.py)
    _user: asyncio.Future[User] | None = None  # the one check, shared by every resolver

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def budget_keys(self) -> list[str]:
        """Whose cost budget this request spends: its address's, and its account's."""
        keys = []
        if self.request.client is not None:
            keys.append(f"addr:{self.request.client.host}")
        if self.claims is not None:
            keys.append(f"user:{self.claims.user_id}")
        return keys

    def catalog_size(self) -> int:
        return self.services.browser.song_count()

    async def require_user(self, *, fresh: bool = False) -> User:
        """The caller, or UNAUTHENTICATED. Checked once per request, by the accounts service
        (token version, session, account): the only way a resolver learns who is calling.
        From the accounts' short-lived cache unless `fresh` (answers showing the account)."""
        if self._user is None or fresh:
            if self.claims is None:
                raise self.auth_error or Unauthenticated("Log in to do this.")
            accounts = self.services.accounts
            try:
                known = None if fresh else accounts.cached_user(self.claims)
            except Unauthenticated as error:
                self.auth_error = error
                raise
            if known is not None:  # answered from the cache: no turn of the loop
                self._user = asyncio.get_running_loop().create_future()
                self._user.set_result(known)
                return known
            self._user = asyncio.ensure_future(accounts.current_user(self.claims, fresh=fresh))
        try:
            return await asyncio.shield(self._user)
        except Unauthenticated as error:
            self.auth_error = error
            raise

    async def renew(self) -> User:
        """For a long-lived subscription: fresh loaders, the caller read again.

        A WebSocket keeps one context for its whole life; without this its DataLoaders would
        cache songs forever, and a session revoked meanwhile (password change, logout
        everywhere, deleted account) would go on being served.
        """
        self.loaders = Loaders()
        self._user = None
        if self.claims is not None and self.claims.expires_at <= datetime.now(UTC):
            raise Unauthenticated("The access token expired; subscribe again with a fresh one.")
        return await self.require_user()

    def authenticate(self, authorization: object) -> None:
        """Claims from an `Authorization: Bearer ...` value sent in a connection_init payload."""
        if not isinstance(authorization, str):
            raise Unauthenticated("Authorization must be 'Bearer <access token>'.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization must be 'Bearer <access token>'.")
        self.claims = self.services.tokens.decode(token.strip())
        self.auth_error = None

    @property
    def user_id(self) -> str | None:
        """The caller's id once `require_user` has checked the token; None before, when
        anonymous or when the check failed (never the token's word alone)."""
        checked = self._user
        if checked is None or not checked.done() or checked.cancelled() or checked.exception():
            return None
        return str(checked.result().id)

    async def viewer(self) -> User | None:
        """The caller for public fields that show more to their owner; None when anonymous
        or when the token no longer holds (a revoked token reads like no token)."""
        if self.claims is None and self._user is None:
            return None
        try:
            return await self.require_user()
        except Unauthenticated:
            return None

    async def liked_among(self, song_ids: Sequence[PydanticObjectId]) -> set[PydanticObjectId]:
        """Which of these songs the caller likes (none when anonymous), for a whole page.

        Straight to the shared lookups, which put concurrent pages into one query a round: a
        DataLoader in between only added a future and a scheduled batch per song."""
        viewer = await self.viewer()
        if viewer is None or viewer.id is None:
            return set()
        return await self.services.likes.liked(viewer.id, song_ids)

    async def liked_loader(self) -> DataLoader[PydanticObjectId, bool] | None:
        """Batches "do I like this song?" for a whole page; None when anonymous."""
        viewer = await self.viewer()
        if viewer is None or viewer.id is None:
            return None
        if self.loaders.liked is None:
            user_id = viewer.id

            async def load(keys: list[PydanticObjectId]) -> list[bool]:
                liked = await self.services.likes.liked(user_id, keys)
                return [key in liked for key in keys]

            self.loaders.liked = DataLoader(load_fn=load)
        return self.loaders.liked

    async def require_admin(self) -> User:
        user = await self.require_user()
        if user.role is not Role.ADMIN:
            raise Forbidden("Only administrators may do this.")
        return user


def bearer_token(request: Request | WebSocket) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


def build_context(
    request: Request | WebSocket, response: Response | WebSocket | None, services: Services
) -> Context:
    context = Context(
        request=request,
        response=response,
        services=services,
        loaders=Loaders(songs=services.songs.by_ids),
    )
    token = bearer_token(request)
    if token is None:
        return context
    try:
        context.claims = services.tokens.decode(token)
    except Unauthenticated as error:
        # Anonymous for public fields; fields that need a user report why the token failed.
        context.auth_error = error
    return context
