"""The Spotify cache: what Spotify told us about a track or an artist, and when to ask again.

Entries are read by `_id` only (the request path never scans): a track entry is keyed by the
catalog's `track_id`, which for catalog songs is the Spotify track id itself.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import pymongo
from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from madhur_gql.documents.common import utcnow


class CoverSize(StrEnum):
    SMALL = "small"  # about 64 px
    MEDIUM = "medium"  # about 300 px
    LARGE = "large"  # about 640 px


class FetchStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # 404, or a search without any matching track
    AMBIGUOUS = "ambiguous"  # a search found several equally good tracks: nothing recorded
    ERROR = "error"  # retries exhausted (5xx, 429, network); asked again after a backoff


class SpotifyTrackInfo(Document):
    """One song's Spotify metadata; every field but the bookkeeping is optional."""

    id: str  # type: ignore[assignment]  # the song's track_id
    spotify_id: str | None = None  # equals `id`, or the id an unambiguous search matched
    matched_by_search: bool = False
    status: FetchStatus
    cover_small_url: str | None = None
    cover_medium_url: str | None = None
    cover_large_url: str | None = None
    spotify_url: str | None = None
    preview_url: str | None = None  # Spotify rarely gives one to new apps since Nov 2024
    artist_id: str | None = None
    artist_image_url: str | None = None
    fetched_at: datetime = Field(default_factory=utcnow)
    refresh_at: datetime = Field(default_factory=utcnow)  # ask Spotify again after this
    attempts: int = 0  # consecutive failed fetches; reset by a success or a 404
    last_error: str | None = None

    class Settings:
        name = "spotify_tracks"

    def cover_url(self, size: CoverSize) -> str | None:
        return {
            CoverSize.SMALL: self.cover_small_url,
            CoverSize.MEDIUM: self.cover_medium_url,
            CoverSize.LARGE: self.cover_large_url,
        }[size]


class SpotifyArtistInfo(Document):
    """An artist's image, cached apart from tracks: one artist request serves all their songs."""

    id: str  # type: ignore[assignment]  # the Spotify artist id
    status: FetchStatus
    name: str | None = None
    name_lc: str | None = None  # how a catalog Artist (known by name only) finds its image
    image_url: str | None = None
    fetched_at: datetime = Field(default_factory=utcnow)
    refresh_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "spotify_artists"
        indexes = [IndexModel([("name_lc", pymongo.ASCENDING)])]
