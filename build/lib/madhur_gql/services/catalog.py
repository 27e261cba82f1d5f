"""Reading the song catalog: search, filters, orderings and pages.

The in-memory CatalogIndex decides which songs and in which order; MongoDB supplies the
page's documents by `_id`, so a page costs one indexed query whatever the catalog size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from beanie import PydanticObjectId

from madhur_gql.documents import Song
from madhur_gql.errors import BadUserInput, NotFound
from madhur_gql.services.ids import parse_object_id

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
    ranges: dict[str, Range] = field(default_factory=dict)  # audio feature name -> range

    def normalised(self) -> SongFilter:
        for name, bounds in self.ranges.items():
            if bounds.min is not None and bounds.max is not None and bounds.min > bounds.max:
                raise BadUserInput(f"Range for '{name}' has min above max.", field="filter")
        for name, value in (
            ("releasedAfter", self.released_after),
            ("releasedBefore", self.released_before),
        ):
            if value is not None and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
                raise BadUserInput(
                    f"'{name}' must be an ISO date (YYYY, YYYY-MM or YYYY-MM-DD).", field=name
                )
        if self.artist_id is not None:
            parse_object_id(self.artist_id, field="artistId")
        return SongFilter(
            genre=self.genre.strip().lower() if self.genre else None,
            artist=" ".join(self.artist.split()).lower() if self.artist else None,
            artist_id=self.artist_id,
            released_after=self.released_after,
            # "2019" must include 2019-12-31: compare against the end of the given period.
            released_before=self.released_before + "-99" if self.released_before else None,
            ranges=self.ranges,
        )


@dataclass(frozen=True, slots=True)
class SongPage:
    songs: list[Song]
    offset: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.songs) < self.total


def normalise_search(search: str | None) -> str | None:
    if search is None:
        return None
    term = " ".join(search.split()).lower()
    if len(term) > MAX_SEARCH_LENGTH:
        raise BadUserInput(
            f"Search text must be at most {MAX_SEARCH_LENGTH} characters.", field="search"
        )
    return term or None


async def load_song_snapshot() -> list[dict[str, Any]]:
    """Every song's browsing and recommending fields, in one pass over the collection."""
    projection = dict.fromkeys(SNAPSHOT_FIELDS, 1)
    cursor = Song.get_pymongo_collection().find({}, projection, batch_size=SNAPSHOT_BATCH)
    return [doc async for doc in cursor]


async def songs_by_ids(ids: Sequence[PydanticObjectId]) -> dict[PydanticObjectId, Song]:
    if not ids:
        return {}
    found = await Song.find({"_id": {"$in": list(set(ids))}}).to_list()
    return {song.id: song for song in found if song.id is not None}


async def get_song(song_id: str) -> Song:
    song = await Song.get(parse_object_id(song_id, field="id"))
    if song is None:
        raise NotFound(f"No song with id '{song_id}'.")
    return song
