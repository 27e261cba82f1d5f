"""The Spotify cache: what Spotify told us about a track or an artist, and when to ask again.

Entries are read by `_id` only (the request path never scans): a track entry is keyed by the
catalog's `track_id`, which for catalog songs is the Spotify track id itself.
"""

from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from madhur_gql.documents.common import utcnow
from madhur_gql.domain.spotify import CoverSize, FetchStatus


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
