from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from madhur_gql.documents.common import utcnow


class AudioFeatures(BaseModel):
    """Spotify's audio features; 0..1 unless noted."""

    danceability: float
    energy: float
    valence: float
    tempo: float  # BPM
    acousticness: float
    instrumentalness: float
    speechiness: float
    liveness: float
    loudness: float  # dB, typically -60..0
    key: int  # pitch class 0..11, -1 when unknown
    mode: int  # 1 major, 0 minor


class Song(Document):
    track_id: str  # Spotify track id: the natural key imports upsert on
    title: str
    artist: str
    artist_id: PydanticObjectId | None = None
    album: str | None = None
    album_id: str | None = None
    release_date: str | None = None  # ISO date, possibly partial ("2019" or "2019-06-14")
    genres: list[str] = Field(default_factory=list)
    subgenres: list[str] = Field(default_factory=list)
    playlist_ids: list[str] = Field(default_factory=list)  # seed co-occurrence for item-CF
    popularity: int = 0
    duration_ms: int = 0
    audio: AudioFeatures
    title_lc: str = ""  # lower-cased copies for case-insensitive search
    artist_lc: str = ""
    like_count: int = 0
    play_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "songs"
        # Browsing, search and filters run on the in-memory CatalogIndex; MongoDB is asked
        # for songs by `_id` or track id only, so no other index pays for itself at import.
        indexes = [
            IndexModel([("track_id", pymongo.ASCENDING)], unique=True),
            IndexModel([("artist_id", pymongo.ASCENDING)]),
        ]
