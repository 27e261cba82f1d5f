"""Administrator operations: editing the catalog. Every field here requires the ADMIN role."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from madhur_gql.graphql.context import Context
from madhur_gql.graphql.types import Artist, Song
from madhur_gql.services import artists
from madhur_gql.services.songs_admin import SongAdmin


@strawberry.input
class AudioFeaturesInput:
    danceability: float
    energy: float
    valence: float
    tempo: float
    acousticness: float
    instrumentalness: float = 0.0
    speechiness: float = 0.0
    liveness: float = 0.0
    loudness: float = -10.0
    key: int = -1
    mode: int = 1


@strawberry.input
class SongInput:
    track_id: str
    title: str
    artist: str
    album: str | None = None
    release_date: str | None = None
    genres: list[str] = strawberry.field(default_factory=list)
    popularity: int = 0
    duration_ms: int = 0
    audio_features: AudioFeaturesInput


@strawberry.input(description="Only the fields given are changed.")
class SongUpdateInput:
    track_id: str | None = None
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    release_date: str | None = None
    genres: list[str] | None = None
    popularity: int | None = None
    duration_ms: int | None = None
    audio_features: AudioFeaturesInput | None = None


def _changes(data: SongInput | SongUpdateInput) -> dict[str, Any]:
    changes = {
        name: getattr(data, name)
        for name in (
            "track_id",
            "title",
            "artist",
            "album",
            "release_date",
            "genres",
            "popularity",
            "duration_ms",
        )
        if getattr(data, name) is not None
    }
    if data.audio_features is not None:
        changes["audio"] = vars(data.audio_features)
    return changes


def _admin(info: Info[Context, None]) -> SongAdmin:
    services = info.context.services
    return SongAdmin(services.catalog, services.recommendations)


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description="Admin: add a song to the catalog.")
    async def create_song(self, info: Info[Context, None], input: SongInput) -> Song:
        await info.context.require_admin()
        return Song.from_document(await _admin(info).create(_changes(input)))

    @strawberry.mutation(description="Admin: change a song.")
    async def update_song(
        self, info: Info[Context, None], id: strawberry.ID, input: SongUpdateInput
    ) -> Song:
        await info.context.require_admin()
        return Song.from_document(await _admin(info).update(id, _changes(input)))

    @strawberry.mutation(
        description="Admin: delete a song. It leaves favourites, playlists and recommendations "
        "at once; listening history keeps the entries with `song: null`."
    )
    async def delete_song(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        await info.context.require_admin()
        await _admin(info).delete(id)
        return id

    @strawberry.mutation(description="Admin: add an artist.")
    async def create_artist(self, info: Info[Context, None], name: str) -> Artist:
        await info.context.require_admin()
        return Artist.from_document(await artists.create_artist(name))

    @strawberry.mutation(description="Admin: rename an artist (their songs follow).")
    async def update_artist(
        self, info: Info[Context, None], id: strawberry.ID, name: str
    ) -> Artist:
        await info.context.require_admin()
        return Artist.from_document(await artists.rename_artist(id, name))

    @strawberry.mutation(description="Admin: delete an artist who has no songs left.")
    async def delete_artist(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        await info.context.require_admin()
        await artists.delete_artist(id)
        return id
