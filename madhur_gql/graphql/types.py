"""GraphQL object types. Each is built from a document by `from_document`."""

from __future__ import annotations

from datetime import datetime

import strawberry
from beanie import PydanticObjectId
from strawberry.types import Info

from madhur_gql import documents
from madhur_gql.graphql.context import Context
from madhur_gql.recommender.engine import Source
from madhur_gql.recommender.mood import Mood as MoodEnum
from madhur_gql.services import catalog_index
from madhur_gql.services.pagination import encode_cursor
from madhur_gql.services.recommendations import Recommendation as RecommendationResult

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
    play_count: int
    audio_features: AudioFeatures

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
            audio_features=AudioFeatures(**song.audio.model_dump()),
        )


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


@strawberry.type
class SongEdge:
    cursor: str
    node: Song


@strawberry.type
class SongConnection:
    edges: list[SongEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class InteractionEdge:
    cursor: str
    node: Interaction


@strawberry.type
class InteractionConnection:
    edges: list[InteractionEdge]
    page_info: PageInfo
    total_count: int
