"""The per-request context: the bearer token is decoded here, once, for every resolver."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from beanie import Document, PydanticObjectId
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from madhur_gql.auth.tokens import AccessClaims, decode_access_token
from madhur_gql.config import Settings
from madhur_gql.documents import Artist, Role, Song, User
from madhur_gql.errors import Forbidden, Unauthenticated
from madhur_gql.observability import Metrics
from madhur_gql.services.accounts import AccountService
from madhur_gql.services.catalog import songs_by_ids
from madhur_gql.services.catalog_index import Catalog
from madhur_gql.services.interactions import Listening
from madhur_gql.services.likes import liked_song_ids
from madhur_gql.services.recommendations import RecommendationService
from madhur_gql.spotify.documents import SpotifyTrackInfo
from madhur_gql.spotify.service import SpotifyService, load_artist_images, load_track_infos

DocumentT = TypeVar("DocumentT", bound=Document)


@dataclass
class Services:
    """Long-lived objects shared by all requests (built once in the app's lifespan)."""

    settings: Settings
    accounts: AccountService
    catalog: Catalog
    recommendations: RecommendationService
    listening: Listening
    metrics: Metrics
    spotify: SpotifyService = field(default_factory=SpotifyService.off)


async def _load_songs(keys: list[PydanticObjectId]) -> list[Song | None]:
    found = await songs_by_ids(keys)
    return [found.get(key) for key in keys]


def _by_id_loader(
    model: type[DocumentT],
) -> Callable[[list[PydanticObjectId]], Awaitable[list[DocumentT | None]]]:
    async def load(keys: list[PydanticObjectId]) -> list[DocumentT | None]:
        found = await model.find({"_id": {"$in": list(set(keys))}}).to_list()
        by_id = {doc.id: doc for doc in found}
        return [by_id.get(key) for key in keys]

    return load


@dataclass
class Loaders:
    """Per-request DataLoaders: N resolvers asking for N songs make one query."""

    song: DataLoader[PydanticObjectId, Song | None] = field(
        default_factory=lambda: DataLoader(load_fn=_load_songs)
    )
    artist: DataLoader[PydanticObjectId, Artist | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id_loader(Artist))
    )
    user: DataLoader[PydanticObjectId, User | None] = field(
        default_factory=lambda: DataLoader(load_fn=_by_id_loader(User))
    )
    liked: DataLoader[PydanticObjectId, bool] | None = None
    spotify_track: DataLoader[str, SpotifyTrackInfo | None] = field(
        default_factory=lambda: DataLoader(load_fn=load_track_infos)
    )
    spotify_artist_image: DataLoader[str, str | None] = field(
        default_factory=lambda: DataLoader(load_fn=load_artist_images)
    )


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    services: Services
    claims: AccessClaims | None = None
    auth_error: Unauthenticated | None = None
    loaders: Loaders = field(default_factory=Loaders)
    _user: User | None = None

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def user_id(self) -> str | None:
        return self.claims.user_id if self.claims else None

    async def require_user(self) -> User:
        """The caller, or UNAUTHENTICATED. Loaded from the database once per request."""
        if self.claims is None:
            raise self.auth_error or Unauthenticated("Log in to do this.")
        if self._user is None:
            user = await User.get(PydanticObjectId(self.claims.user_id))
            if user is None:  # deleted account with a still-valid token
                raise Unauthenticated("This account no longer exists.")
            if user.token_version != self.claims.version:  # password changed, logged out
                raise Unauthenticated("This session has ended; log in again.")
            self._user = user
        return self._user

    def liked_loader(self) -> DataLoader[PydanticObjectId, bool] | None:
        """Batches "do I like this song?" for a whole page; None when anonymous."""
        if self.claims is None:
            return None
        if self.loaders.liked is None:
            user_id = PydanticObjectId(self.claims.user_id)

            async def load(keys: list[PydanticObjectId]) -> list[bool]:
                liked = await liked_song_ids(user_id, keys)
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
    context = Context(request=request, response=response, services=services)
    token = bearer_token(request)
    if token is None:
        return context
    try:
        context.claims = decode_access_token(services.settings, token)
    except Unauthenticated as error:
        # Anonymous for public fields; fields that need a user report why the token failed.
        context.auth_error = error
    return context
