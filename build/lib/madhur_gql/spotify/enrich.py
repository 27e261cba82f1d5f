"""Turning Spotify answers into cache entries: one track request per song, artists shared.

A song whose `track_id` is a Spotify id costs one `GET /tracks/{id}`; a song from elsewhere
costs one `GET /search` and is matched only when exactly one result has the same title and
artist. The artist image costs one `GET /artists/{id}` per artist, not per song.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from datetime import timedelta
from typing import Any

import structlog

from madhur_gql.config import Settings
from madhur_gql.documents import Song
from madhur_gql.documents.common import utcnow
from madhur_gql.spotify.client import Answer, SpotifyClient
from madhur_gql.spotify.documents import FetchStatus, SpotifyArtistInfo, SpotifyTrackInfo

log = structlog.get_logger(__name__)

SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")
SEARCH_LIMIT = 10  # the most Spotify's search returns to development-mode apps (2026)
ERROR_RETRY = timedelta(minutes=10)  # first retry after a failed fetch; doubles each time
COVER_PIXELS = {"small": 64, "medium": 300, "large": 640}
ARTIST_IMAGE_PIXELS = 320


def is_spotify_id(track_id: str) -> bool:
    return SPOTIFY_ID.fullmatch(track_id) is not None


def normalise(text: str | None) -> str:
    """Case, accents and punctuation do not make two titles different songs."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", letters.casefold()).split())


def closest_image(images: list[dict[str, Any]], pixels: int) -> str | None:
    """The image whose width is nearest `pixels` (Spotify sizes vary by release)."""
    usable = [image for image in images if isinstance(image, dict) and image.get("url")]
    if not usable:
        return None
    best = min(usable, key=lambda image: abs((image.get("width") or pixels) - pixels))
    url: str = best["url"]
    return url


def unambiguous_match(items: list[dict[str, Any]], title: str, artist: str) -> Answer:
    """OK with the track when exactly one result has this title by this artist."""
    want_title, want_artist = normalise(title), normalise(artist)
    matches = {
        item["id"]: item
        for item in items
        if isinstance(item, dict)
        and item.get("id")
        and normalise(item.get("name")) == want_title
        and any(normalise(a.get("name")) == want_artist for a in item.get("artists") or [])
    }
    if len(matches) == 1:
        return Answer(FetchStatus.OK, next(iter(matches.values())))
    if not matches:
        return Answer(FetchStatus.NOT_FOUND, error="no search result with this title and artist")
    return Answer(FetchStatus.AMBIGUOUS, error=f"{len(matches)} tracks match title and artist")


def search_query(title: str, artist: str) -> str:
    clean = lambda text: " ".join(text.replace('"', " ").replace(":", " ").split())  # noqa: E731
    return f"track:{clean(title)} artist:{clean(artist)}"


class Enricher:
    """Fetches, matches and stores; shared by the background worker and the CLI."""

    def __init__(self, client: SpotifyClient, settings: Settings) -> None:
        self.client = client
        self.refresh_age = timedelta(days=settings.spotify_refresh_days)
        self._artist_locks: dict[str, asyncio.Lock] = {}

    async def enrich(self, key: str, *, force: bool = False) -> SpotifyTrackInfo | None:
        """The fresh cache entry for the song with this `track_id` (None: no such song).

        Without `force` a fresh entry is returned as is, with no request.
        """
        existing = await SpotifyTrackInfo.get(key)
        if existing is not None and not force and existing.refresh_at > utcnow():
            return existing
        if is_spotify_id(key):
            answer = await self.client.track(key)
            matched_by_search = False
        else:
            song = await Song.find_one({"track_id": key})
            if song is None:
                return None
            answer = await self.client.search_tracks(search_query(song.title, song.artist))
            if answer.status is FetchStatus.OK:
                items = ((answer.body or {}).get("tracks") or {}).get("items") or []
                answer = unambiguous_match(items, song.title, song.artist)
            matched_by_search = True
        entry = await self._entry(key, answer, existing, matched_by_search)
        await entry.save()
        return entry

    async def _entry(
        self,
        key: str,
        answer: Answer,
        existing: SpotifyTrackInfo | None,
        matched_by_search: bool,
    ) -> SpotifyTrackInfo:
        now = utcnow()
        if answer.status is FetchStatus.ERROR:
            attempts = (existing.attempts if existing else 0) + 1
            retry = min(self.refresh_age, ERROR_RETRY * 2 ** (attempts - 1))
            if existing is not None and existing.status is FetchStatus.OK:
                # A failed refresh keeps what we had: stale covers beat no covers.
                return existing.model_copy(
                    update={
                        "attempts": attempts,
                        "last_error": answer.error,
                        "refresh_at": now + retry,
                    }
                )
            return SpotifyTrackInfo(
                id=key,
                status=FetchStatus.ERROR,
                matched_by_search=matched_by_search,
                fetched_at=now,
                refresh_at=now + retry,
                attempts=attempts,
                last_error=answer.error,
            )
        entry = SpotifyTrackInfo(
            id=key,
            status=answer.status,
            matched_by_search=matched_by_search,
            fetched_at=now,
            refresh_at=now + self.refresh_age,
            last_error=answer.error,
        )
        track = answer.body if answer.status is FetchStatus.OK else None
        if track:
            album = track.get("album") or {}
            images = album.get("images") or []
            artists = [a for a in track.get("artists") or [] if isinstance(a, dict)]
            entry.spotify_id = track.get("id") or key
            entry.cover_small_url = closest_image(images, COVER_PIXELS["small"])
            entry.cover_medium_url = closest_image(images, COVER_PIXELS["medium"])
            entry.cover_large_url = closest_image(images, COVER_PIXELS["large"])
            entry.spotify_url = (track.get("external_urls") or {}).get("spotify")
            entry.preview_url = track.get("preview_url")
            entry.artist_id = artists[0].get("id") if artists else None
            if entry.artist_id:
                entry.artist_image_url = await self.artist_image(entry.artist_id)
        return entry

    async def artist_image(self, artist_id: str) -> str | None:
        """The artist's image from the artist cache; one request per artist and refresh age."""
        lock = self._artist_locks.setdefault(artist_id, asyncio.Lock())
        try:
            async with lock:  # two songs of one artist in flight: one request
                cached = await SpotifyArtistInfo.get(artist_id)
                now = utcnow()
                if cached is not None and cached.refresh_at > now:
                    return cached.image_url
                answer = await self.client.artist(artist_id)
                if answer.status is FetchStatus.ERROR:
                    if cached is not None:
                        cached.refresh_at = now + ERROR_RETRY
                        await cached.save()
                        return cached.image_url
                    info = SpotifyArtistInfo(
                        id=artist_id, status=answer.status, refresh_at=now + ERROR_RETRY
                    )
                else:
                    body = answer.body or {}
                    info = SpotifyArtistInfo(
                        id=artist_id,
                        status=answer.status,
                        name=body.get("name"),
                        name_lc=normalise(body.get("name")) or None,
                        image_url=closest_image(body.get("images") or [], ARTIST_IMAGE_PIXELS),
                        refresh_at=now + self.refresh_age,
                    )
                await info.save()
                return info.image_url
        finally:
            if not lock.locked():
                self._artist_locks.pop(artist_id, None)
