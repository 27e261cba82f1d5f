"""GraphQL input types and their conversion to service-layer values."""

from __future__ import annotations

import strawberry

from madhur_gql.graphql.types import InteractionKind, Mood
from madhur_gql.services.catalog import Range, SongFilter


@strawberry.input(description="An inclusive range; either end may be left open.")
class FloatRange:
    min: float | None = None
    max: float | None = None


@strawberry.input(name="SongFilter")
class SongFilterInput:
    genre: str | None = None
    artist: str | None = strawberry.field(default=None, description="Exact artist name.")
    artist_id: strawberry.ID | None = None
    released_after: str | None = strawberry.field(
        default=None, description="ISO date or year, inclusive."
    )
    released_before: str | None = strawberry.field(
        default=None, description="ISO date or year, inclusive: 2019 includes all of 2019."
    )
    energy: FloatRange | None = None
    valence: FloatRange | None = None
    danceability: FloatRange | None = None
    acousticness: FloatRange | None = None
    tempo: FloatRange | None = strawberry.field(default=None, description="Beats per minute.")

    def to_filter(self) -> SongFilter:
        ranges = {
            name: Range(bounds.min, bounds.max)
            for name in ("energy", "valence", "danceability", "acousticness", "tempo")
            if (bounds := getattr(self, name)) is not None
        }
        return SongFilter(
            genre=self.genre,
            artist=self.artist,
            artist_id=self.artist_id,
            released_after=self.released_after,
            released_before=self.released_before,
            ranges=ranges,
        )


@strawberry.input
class RegisterInput:
    email: str
    password: str
    display_name: str


@strawberry.input(description="Fields to change on the caller's account; null leaves one as is.")
class UpdateMeInput:
    display_name: str | None = None
    favourite_genres: list[str] | None = None
    favourite_moods: list[Mood] | None = None  # type: ignore[valid-type]


@strawberry.input
class RecordInteractionInput:
    song_id: strawberry.ID
    kind: InteractionKind  # type: ignore[valid-type]
    rating: int | None = strawberry.field(default=None, description="1..5, with kind RATING.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any unique string per intended write: a retry with it is stored once.",
    )
