"""Catalog edits by administrators, with the same rules as the importer.

Deleting a song removes it from favourites, playlists, search and recommendations at once.
Its interactions are kept: they are the listener's history (shown with `song: null`) and
still count in aggregate statistics; the recommender ignores them.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field, ValidationError, create_model
from pymongo.errors import DuplicateKeyError

from madhur_gql.documents import AudioFeatures, Like, Playlist, Song
from madhur_gql.documents.common import utcnow
from madhur_gql.domain import locales
from madhur_gql.domain.song_fields import (
    AUDIO_FIELDS,
    DURATION_MS,
    MAX_ALBUM,
    MAX_ARTIST,
    MAX_GENRES,
    MAX_TITLE,
    POPULARITY,
    RELEASE_DATE,
    TRACK_ID,
    NumberField,
    name_key,
    normalise_genres,
)
from madhur_gql.errors import BadUserInput, Conflict
from madhur_gql.services.catalog.artists import ensure_artists
from madhur_gql.services.catalog.songs import get_song
from madhur_gql.services.live import LiveState


def _bounded(field: NumberField) -> Any:
    """A pydantic field with the table's bounds."""
    if field.above:
        return (int if field.integer else float, Field(gt=field.low, le=field.high))
    return (int if field.integer else float, Field(ge=field.low, le=field.high))


AudioFeaturesData = create_model(
    "AudioFeaturesData", **{field.name: _bounded(field) for field in AUDIO_FIELDS}
)


class SongChanges(BaseModel):
    """Fields an admin may set; None means unchanged (on create, the required ones must be set)."""

    track_id: str | None = Field(None, pattern=TRACK_ID)
    title: str | None = Field(None, min_length=1, max_length=MAX_TITLE)
    artist: str | None = Field(None, min_length=1, max_length=MAX_ARTIST)
    album: str | None = Field(None, max_length=MAX_ALBUM)
    release_date: str | None = Field(None, pattern=RELEASE_DATE)
    genres: list[str] | None = Field(None, max_length=MAX_GENRES)
    popularity: int | None = Field(None, ge=POPULARITY.low, le=POPULARITY.high)
    duration_ms: int | None = Field(None, ge=DURATION_MS.low, le=DURATION_MS.high)
    audio: AudioFeaturesData | None = None
    language: str | None = None  # "" clears it on update
    country: str | None = None


def validated(changes: dict[str, Any]) -> SongChanges:
    stripped = {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    try:
        data = SongChanges.model_validate(stripped)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise BadUserInput(f"{field}: {first['msg']}", field=field) from error
    if data.language:
        data.language = locales.language(data.language)
    if data.country:
        data.country = locales.country(data.country)
    return data


class SongAdmin:
    def __init__(self, live: LiveState) -> None:
        self.live = live  # edits reach this process's memory through the one door

    async def create(self, changes: dict[str, Any]) -> Song:
        data = validated(changes)
        missing = [
            name for name in ("track_id", "title", "artist", "audio") if getattr(data, name) is None
        ]
        if missing:
            raise BadUserInput(f"Missing required field: {missing[0]}.", field=missing[0])
        assert data.track_id and data.title and data.artist and data.audio
        artist_ids = await ensure_artists({name_key(data.artist): data.artist})
        song = Song(
            track_id=data.track_id,
            title=data.title,
            artist=data.artist,
            artist_id=artist_ids[name_key(data.artist)],
            title_lc=data.title.lower(),
            artist_lc=name_key(data.artist),
            album=data.album,
            release_date=data.release_date,
            genres=normalise_genres(data.genres or []),
            popularity=data.popularity or 0,
            duration_ms=data.duration_ms or 0,
            language=data.language or None,
            country=data.country or None,
            audio=AudioFeatures(**data.audio.model_dump()),
        )
        try:
            await song.insert()
        except DuplicateKeyError as error:
            raise Conflict(
                f"A song with track id '{data.track_id}' exists.", field="trackId"
            ) from error
        await self._reindex(song.id)
        return song

    async def update(self, song_id: str, changes: dict[str, Any]) -> Song:
        song = await get_song(song_id)
        data = validated(changes)
        update: dict[str, Any] = {"updated_at": utcnow()}
        if data.track_id is not None and data.track_id != song.track_id:
            update["track_id"] = data.track_id
        if data.title is not None:
            update.update(title=data.title, title_lc=data.title.lower())
        if data.artist is not None:
            key = name_key(data.artist)
            artist_ids = await ensure_artists({key: data.artist})
            update.update(artist=data.artist, artist_lc=key, artist_id=artist_ids[key])
        for name in ("album", "release_date", "popularity", "duration_ms"):
            if getattr(data, name) is not None:
                update[name] = getattr(data, name)
        if data.genres is not None:
            update["genres"] = normalise_genres(data.genres)
        for name in ("language", "country"):
            if getattr(data, name) is not None:
                update[name] = getattr(data, name) or None  # "" clears
        if data.audio is not None:
            update["audio"] = data.audio.model_dump()
        try:
            await Song.get_pymongo_collection().update_one({"_id": song.id}, {"$set": update})
        except DuplicateKeyError as error:
            raise Conflict("Another song has that track id.", field="trackId") from error
        await self._reindex(song.id)
        return await get_song(song_id)

    async def delete(self, song_id: str) -> Song:
        song = await get_song(song_id)
        assert song.id is not None
        await Like.get_pymongo_collection().delete_many({"song_id": song.id})
        await Playlist.get_pymongo_collection().update_many(
            {"song_ids": song.id}, {"$pull": {"song_ids": song.id}, "$inc": {"version": 1}}
        )
        await song.delete()
        self.live.songs_removed([song.id])
        return song

    async def _reindex(self, song_id: PydanticObjectId | None) -> None:
        """Apply now in this process; the change feed brings it to the others."""
        doc = await Song.get_pymongo_collection().find_one({"_id": song_id})
        if doc is not None:
            self.live.songs_changed([doc])
