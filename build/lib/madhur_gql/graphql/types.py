"""GraphQL object types. Each is built from a document by `from_document`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Generic, TypeVar

import strawberry
from beanie import PydanticObjectId
from strawberry.types import Info

from madhur_gql import documents
from madhur_gql.graphql.context import Context
from madhur_gql.recommender.engine import Source
from madhur_gql.recommender.mood import Mood as MoodEnum
from madhur_gql.services import catalog_index
from madhur_gql.services.catalog import SongFilter
from madhur_gql.services.pagination import encode_cursor
from madhur_gql.services.recommendations import Recommendation as RecommendationResult
from madhur_gql.spotify.graphql import CoverSize, spotify_track_info

Role = strawberry.enum(documents.Role, description="What an account may do.")
InteractionKind = strawberry.enum(documents.InteractionKind, description="What a listener did.")
RecommendationSource = strawberry.enum(Source, name="RecommendationSource")
Mood = strawberry.enum(MoodEnum, name="Mood")
SongOrder = strawberry.enum(catalog_index.SongOrder, name="SongOrder")


@strawberry.type(description="Spotify audio features; 0..1 unless noted.")
class AudioFeatures:
    danceability: float
    energy: float
    valence: float
    tempo: float = strawberry.field(description="Beats per minute.")
    acousticness: float
    instrumentalness: float
    speechiness: float
    liveness: float
    loudness: float = strawberry.field(description="Average loudness in dB (about -60..0).")
    key: int = strawberry.field(description="Pitch class 0..11 (0 = C), -1 when unknown.")
    mode: int = strawberry.field(description="1 major, 0 minor.")


@strawberry.type
class Song:
    id: strawberry.ID
    track_id: str = strawberry.field(description="Spotify track id.")
    title: str
    artist: str
    album: str | None
    genres: list[str]
    release_date: str | None = strawberry.field(description="ISO date, possibly partial (YYYY).")
    popularity: int = strawberry.field(description="0..100, from Spotify at import time.")
    duration_ms: int
    play_count: int = strawberry.field(description="Plays on Madhur.")
    like_count: int = strawberry.field(description="Listeners who like this song on Madhur.")
    audio_features: AudioFeatures
    artist_id: strawberry.Private[PydanticObjectId | None]

    @strawberry.field(description="The artist as a browsable entity (`artist` is the name).")
    async def artist_profile(self, info: Info[Context, None]) -> Artist | None:
        if self.artist_id is None:
            return None
        artist = await info.context.loaders.artist.load(self.artist_id)
        return Artist.from_document(artist) if artist else None

    @strawberry.field(description="Whether the caller likes this song; false when anonymous.")
    async def liked_by_me(self, info: Info[Context, None]) -> bool:
        loader = info.context.liked_loader()
        return False if loader is None else await loader.load(PydanticObjectId(self.id))

    @strawberry.field(description="Album cover from Spotify; null until fetched or if none.")
    async def album_cover_url(
        self,
        info: Info[Context, None],
        size: CoverSize = CoverSize.MEDIUM,  # type: ignore[valid-type]
    ) -> str | None:
        entry = await spotify_track_info(info.context, self.track_id)
        return entry.cover_url(size) if entry else None

    @strawberry.field(description="The song on open.spotify.com; null until fetched.")
    async def spotify_url(self, info: Info[Context, None]) -> str | None:
        entry = await spotify_track_info(info.context, self.track_id)
        return entry.spotify_url if entry else None

    @strawberry.field(description="A 30 s MP3 preview; Spotify gives few apps one since 2024.")
    async def preview_url(self, info: Info[Context, None]) -> str | None:
        entry = await spotify_track_info(info.context, self.track_id)
        return entry.preview_url if entry else None

    @strawberry.field(description="The (first) artist's image from Spotify, about 320 px.")
    async def artist_image_url(self, info: Info[Context, None]) -> str | None:
        entry = await spotify_track_info(info.context, self.track_id)
        return entry.artist_image_url if entry else None

    @classmethod
    def from_document(cls, song: documents.Song) -> Song:
        return cls(
            id=strawberry.ID(str(song.id)),
            track_id=song.track_id,
            title=song.title,
            artist=song.artist,
            album=song.album,
            genres=song.genres,
            release_date=song.release_date,
            popularity=song.popularity,
            duration_ms=song.duration_ms,
            play_count=song.play_count,
            like_count=song.like_count,
            audio_features=AudioFeatures(**song.audio.model_dump()),
            artist_id=song.artist_id,
        )


@strawberry.type
class Artist:
    id: strawberry.ID
    name: str

    @strawberry.field(
        description="The artist's image from Spotify (~320 px); null until one of their songs "
        "is enriched."
    )
    async def image_url(self, info: Info[Context, None]) -> str | None:
        return await info.context.loaders.spotify_artist_image.load(self.name)

    @strawberry.field(description="How many songs of this artist are in the catalog.")
    def song_count(self, info: Info[Context, None]) -> int:
        return info.context.services.catalog.index.artist_song_count(str(self.id))

    @strawberry.field(description="The artist's songs in `order`.")
    async def songs(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        order: SongOrder = catalog_index.SongOrder.POPULARITY,  # type: ignore[valid-type]
    ) -> Connection[Song]:
        page = await info.context.services.catalog.find_songs(
            first=first,
            after=after,
            search=None,
            song_filter=SongFilter(artist_id=str(self.id)),
            order=order,
        )
        return Connection.of([Song.from_document(s) for s in page.songs], page.offset, page.total)

    @classmethod
    def from_document(cls, artist: documents.Artist) -> Artist:
        return cls(id=strawberry.ID(str(artist.id)), name=artist.name)


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    display_name: str
    role: Role  # type: ignore[valid-type]
    favourite_genres: list[str]
    favourite_moods: list[Mood]  # type: ignore[valid-type]
    created_at: datetime

    @classmethod
    def from_document(cls, user: documents.User) -> User:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            favourite_genres=user.favourite_genres,
            favourite_moods=[
                MoodEnum(m) for m in user.favourite_moods if m in MoodEnum.__members__
            ],
            created_at=user.created_at,
        )


@strawberry.type
class Interaction:
    id: strawberry.ID
    kind: InteractionKind  # type: ignore[valid-type]
    rating: int | None
    created_at: datetime
    song_id: strawberry.Private[PydanticObjectId]

    @strawberry.field
    async def song(self, info: Info[Context, None]) -> Song | None:
        """Null when the song was deleted after the interaction was recorded."""
        song = await info.context.loaders.song.load(self.song_id)
        return Song.from_document(song) if song else None

    @classmethod
    def from_document(cls, interaction: documents.Interaction) -> Interaction:
        return cls(
            id=strawberry.ID(str(interaction.id)),
            kind=interaction.kind,
            rating=interaction.rating,
            created_at=interaction.created_at,
            song_id=interaction.song_id,
        )


@strawberry.type
class Recommendation:
    song: Song
    score: float = strawberry.field(description="Higher is better; comparable within one list.")
    source: RecommendationSource  # type: ignore[valid-type]
    reasons: list[str] = strawberry.field(description="Why this song, in words for the listener.")

    @classmethod
    def from_result(cls, result: RecommendationResult) -> Recommendation:
        return cls(
            song=Song.from_document(result.song),
            score=result.score,
            source=result.source,
            reasons=result.reasons,
        )


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User


@strawberry.type
class Genre:
    name: str
    song_count: int


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def for_page(cls, offset: int, count: int, has_next: bool) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=offset > 0,
            start_cursor=encode_cursor(offset) if count else None,
            end_cursor=encode_cursor(offset + count - 1) if count else None,
        )


NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type  # named after its node: Connection[Song] is SongConnection in the schema
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, nodes: Sequence[NodeT], offset: int, total: int) -> Connection[NodeT]:
        """The page of `nodes` that starts at `offset` in a list of `total`."""
        edges = [Edge(cursor=encode_cursor(offset + i), node=node) for i, node in enumerate(nodes)]
        has_next = offset + len(edges) < total
        return cls(
            edges=edges,
            page_info=PageInfo.for_page(offset, len(edges), has_next),
            total_count=total,
        )


@strawberry.type(description="A listener as others see them: no email.")
class Listener:
    id: strawberry.ID
    display_name: str


@strawberry.type
class Playlist:
    id: strawberry.ID
    name: str
    description: str
    public: bool
    song_count: int
    created_at: datetime
    updated_at: datetime
    owner_id: strawberry.Private[PydanticObjectId]
    song_ids: strawberry.Private[list[PydanticObjectId]]

    @strawberry.field
    async def owner(self, info: Info[Context, None]) -> Listener | None:
        user = await info.context.loaders.user.load(self.owner_id)
        return (
            Listener(id=strawberry.ID(str(user.id)), display_name=user.display_name)
            if user
            else None
        )

    @strawberry.field(description="The songs in playlist order; deleted songs drop out.")
    async def songs(self, info: Info[Context, None]) -> list[Song]:
        found = await info.context.loaders.song.load_many(self.song_ids)
        return [Song.from_document(song) for song in found if song is not None]

    @classmethod
    def from_document(cls, playlist: documents.Playlist) -> Playlist:
        return cls(
            id=strawberry.ID(str(playlist.id)),
            name=playlist.name,
            description=playlist.description,
            public=playlist.public,
            song_count=len(playlist.song_ids),
            created_at=playlist.created_at,
            updated_at=playlist.updated_at,
            owner_id=playlist.owner_id,
            song_ids=playlist.song_ids,
        )
