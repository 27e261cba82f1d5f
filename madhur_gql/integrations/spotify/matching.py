"""Reading Spotify's answers: which image fits a size, and which search result is our song."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from madhur_gql.domain.spotify import FetchStatus
from madhur_gql.integrations.spotify.client import Answer

SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")
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
