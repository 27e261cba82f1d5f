"""GraphQL input types and their conversion to service-layer values."""

from __future__ import annotations

import strawberry

from madhur_gql.domain.song_fields import AUDIO_FIELDS, FILTER_FEATURES, POPULARITY
from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.types import InteractionKind, Mood
from madhur_gql.services.catalog.songs import Range, SongFilter
from madhur_gql.services.recommendations import FeatureBounds

# What `AudioTargetsInput` accepts per feature, in the feature's unit: the song field table's.
STEERING_RANGES: dict[str, tuple[float, float]] = {
    **{f.name: (f.low, f.high) for f in AUDIO_FIELDS if not f.integer},
    POPULARITY.name: (POPULARITY.low, POPULARITY.high),
}


@strawberry.input(description="An inclusive range; either end may be left open.")
class FloatRange:
    min: float | None = None
    max: float | None = None


@strawberry.input(
    name="SongFilter", description="Narrows a song list; every given condition must hold."
)
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
    language: str | None = strawberry.field(
        default=None,
        description='ISO 639-1 code ("ne"), any case. Songs whose language is unknown (every '
        "song of the demo catalog) never match.",
    )
    country: str | None = strawberry.field(
        default=None,
        description='ISO 3166-1 alpha-2 code ("NP"), any case. Songs whose country is unknown '
        "never match.",
    )

    def to_filter(self) -> SongFilter:
        ranges = {
            name: Range(bounds.min, bounds.max)
            for name in FILTER_FEATURES
            if (bounds := getattr(self, name)) is not None
        }
        return SongFilter(
            genre=self.genre,
            artist=self.artist,
            artist_id=self.artist_id,
            released_after=self.released_after,
            released_before=self.released_before,
            ranges=ranges,
            language=self.language,
            country=self.country,
        )


@strawberry.input(description="A new account: e-mail, password (10+ characters) and display name.")
class RegisterInput:
    email: str
    password: str
    display_name: str


@strawberry.input(description="Fields to change on the caller's account; null leaves one as is.")
class UpdateMeInput:
    display_name: str | None = None
    favourite_genres: list[str] | None = None
    favourite_moods: list[Mood] | None = None  # type: ignore[valid-type]
    preferred_languages: list[str] | None = strawberry.field(
        default=None,
        description='ISO 639-1 codes ("ne", "en"), most preferred first, at most 5, any case: '
        "songs in them are lifted in your lists.",
    )
    country: str | None = strawberry.field(
        default=None,
        description='ISO 3166-1 alpha-2 code ("NP"); "" clears it. Lifts local songs.',
    )


@strawberry.input(description="What a listener did with a song, for history and recommendations.")
class RecordInteractionInput:
    song_id: strawberry.ID
    kind: InteractionKind  # type: ignore[valid-type]
    rating: int | None = strawberry.field(default=None, description="1..5, with kind RATING.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Any unique string per intended write: a retry with it is stored once.",
    )
    played_seconds: int | None = strawberry.field(
        default=None,
        description=(
            "With PLAY or SKIP: seconds of the song played (0..86400). A skip in the first "
            "seconds counts more against the song than a late one; a partial play counts "
            "with its share of the song."
        ),
    )
    list_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The `listId` of the list the song was picked from: a PLAY, LIKE, SKIP or DISLIKE "
            "within 30 minutes counts for that list in the online metrics. Without it, the "
            "newest list served to the caller in the last 30 minutes that holds the song counts."
        ),
    )


@strawberry.input(
    name="FeatureTarget",
    description=(
        "Steering on one audio feature, in the feature's own unit (0..1, tempo in BPM, "
        "loudness in dB, popularity 0..100). `min`/`max` are hard filters: no song outside "
        "them is listed. `target` pulls the ranking towards that value."
    ),
)
class FeatureTargetInput:
    min: float | None = strawberry.field(default=None, description="No song below this value.")
    max: float | None = strawberry.field(default=None, description="No song above this value.")
    target: float | None = strawberry.field(
        default=None, description="Songs near this value rank higher."
    )


@strawberry.input(
    description=(
        "Spotify-style tunable attributes for a list: any of the features, each with "
        "`min`/`max`/`target`. A value outside a feature's range is BAD_USER_INPUT naming "
        "the field, e.g. `audio.tempo.max`."
    )
)
class AudioTargetsInput:
    danceability: FeatureTargetInput | None = strawberry.field(default=None, description="0..1.")
    energy: FeatureTargetInput | None = strawberry.field(default=None, description="0..1.")
    valence: FeatureTargetInput | None = strawberry.field(default=None, description="0..1.")
    tempo: FeatureTargetInput | None = strawberry.field(
        default=None, description="Beats per minute, 0..250."
    )
    acousticness: FeatureTargetInput | None = strawberry.field(default=None, description="0..1.")
    instrumentalness: FeatureTargetInput | None = strawberry.field(
        default=None, description="0..1."
    )
    speechiness: FeatureTargetInput | None = strawberry.field(default=None, description="0..1.")
    liveness: FeatureTargetInput | None = strawberry.field(default=None, description="0..1.")
    loudness: FeatureTargetInput | None = strawberry.field(
        default=None, description="Decibels, -60..5."
    )
    popularity: FeatureTargetInput | None = strawberry.field(
        default=None, description="0..100, from Spotify at import time."
    )

    def to_bounds(self) -> list[tuple[str, FeatureBounds]]:
        """Checked bounds per given feature; BAD_USER_INPUT names the offending field."""
        out: list[tuple[str, FeatureBounds]] = []
        for name, (low, high) in STEERING_RANGES.items():
            given: FeatureTargetInput | None = getattr(self, name)
            if given is None:
                continue
            for part in ("min", "max", "target"):
                value = getattr(given, part)
                if value is not None and not low <= value <= high:
                    raise BadUserInput(
                        f"'audio.{name}.{part}' must be between {low:g} and {high:g}.",
                        field=f"audio.{name}.{part}",
                    )
            if given.min is not None and given.max is not None and given.min > given.max:
                raise BadUserInput(f"'audio.{name}': min is above max.", field=f"audio.{name}")
            if (given.min, given.max, given.target) != (None, None, None):
                out.append((name, FeatureBounds(given.min, given.max, given.target)))
        return out


@strawberry.input(
    description=(
        "What a radio station plays around: exactly one of a song, an artist, a genre or a mood."
    )
)
class RadioSeedInput:
    song_id: strawberry.ID | None = strawberry.field(
        default=None, description="Songs like this one (it is not played itself)."
    )
    artist_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="This artist and artists like them, at most 2 songs by one artist in 10.",
    )
    genre: str | None = strawberry.field(default=None, description="Only songs of this genre.")
    mood: Mood | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Songs that match this mood."
    )
