"""Songs as the other services ask for them: a filter's rules, lookups by id, the snapshot.

The snapshot (every song's browsing and recommending fields, one pass) feeds the catalog
index and the recommender at start-up; requests read songs by `_id` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from beanie import PydanticObjectId

from madhur_gql.documents import Song
from madhur_gql.domain import locales
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.domain.song_fields import AUDIO, is_release_date, name_key, search_key
from madhur_gql.errors import BadUserInput, NotFound

MAX_SEARCH_LENGTH = 200
SNAPSHOT_BATCH = 5000
SNAPSHOT_FIELDS = (
    "title",
    "artist",
    "title_lc",
    "artist_lc",
    "audio",
    "genres",
    "popularity",
    "language",
    "country",
    "release_date",
    "playlist_ids",
    "artist_id",
    "like_count",
    "play_count",
)


@dataclass(frozen=True, slots=True)
class Range:
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class SongFilter:
    genre: str | None = None
    artist: str | None = None
    artist_id: str | None = None
    released_after: str | None = None  # ISO date or year, inclusive
    released_before: str | None = None
    ranges: dict[str, Range] = field(default_factory=dict)  # FILTER_FEATURES name -> range
    language: str | None = None  # ISO 639-1; songs of unknown language never match
    country: str | None = None  # ISO 3166-1 alpha-2

    def normalised(self) -> SongFilter:
        for name, bounds in self.ranges.items():
            feature = AUDIO[name]
            for end, bound in (("min", bounds.min), ("max", bounds.max)):
                if bound is not None and not feature.low <= bound <= feature.high:
                    unit = f" {feature.unit}" if feature.unit else ""
                    raise BadUserInput(
                        f"filter.{name}.{end} must be between {feature.low:g} and "
                        f"{feature.high:g}{unit} (got {bound:g}).",
                        field=f"filter.{name}.{end}",
                    )
            if bounds.min is not None and bounds.max is not None and bounds.min > bounds.max:
                raise BadUserInput(f"Range for '{name}' has min above max.", field=f"filter.{name}")
        for name, value in (
            ("releasedAfter", self.released_after),
            ("releasedBefore", self.released_before),
        ):
            if value is not None and not is_release_date(value):
                raise BadUserInput(
                    f"'{name}' must be an ISO date (YYYY, YYYY-MM or YYYY-MM-DD).", field=name
                )
        if self.artist_id is not None:
            parse_object_id(self.artist_id, field="artistId")
        return SongFilter(
            genre=name_key(self.genre) if self.genre else None,
            artist=name_key(self.artist) if self.artist else None,
            artist_id=self.artist_id,
            released_after=self.released_after,
            # "2019" must include 2019-12-31: compare against the end of the given period.
            released_before=self.released_before + "-99" if self.released_before else None,
            ranges=self.ranges,
            language=locales.language(self.language) if self.language is not None else None,
            country=locales.country(self.country) if self.country is not None else None,
        )


def normalise_search(search: str | None) -> str | None:
    if search is None:
        return None
    term = search_key(search)
    if len(term) > MAX_SEARCH_LENGTH:
        raise BadUserInput(
            f"Search text must be at most {MAX_SEARCH_LENGTH} characters.", field="search"
        )
    return term or None


async def load_song_snapshot(*, full: bool = False) -> list[dict[str, Any]]:
    """Every song's browsing and recommending fields (`full`: whole documents), in one pass."""
    projection = None if full else dict.fromkeys(SNAPSHOT_FIELDS, 1)
    cursor = Song.get_pymongo_collection().find({}, projection, batch_size=SNAPSHOT_BATCH)
    return [doc async for doc in cursor]


async def songs_by_ids(ids: Sequence[PydanticObjectId]) -> dict[PydanticObjectId, Song]:
    if not ids:
        return {}
    found = await Song.find({"_id": {"$in": list(set(ids))}}).to_list()
    return {song.id: song for song in found if song.id is not None}


async def get_song(song_id: str, *, field: str = "id") -> Song:
    """`field` is the argument the id came in, named in the error of a malformed one."""
    song = await Song.get(parse_object_id(song_id, field=field))
    if song is None:
        raise NotFound(f"No song with id '{song_id}'.")
    return song
