"""Reads of the Spotify cache for requests: by `_id` or indexed name, in batches, never Spotify."""

from __future__ import annotations

from collections.abc import Sequence

from madhur_gql.documents.spotify import SpotifyArtistInfo, SpotifyTrackInfo
from madhur_gql.domain.spotify import FetchStatus
from madhur_gql.integrations.spotify.matching import normalise

LOOKUP_BATCH = 200  # `$in` of up to 200 ids stays a fast indexed lookup


async def load_track_infos(keys: Sequence[str]) -> list[SpotifyTrackInfo | None]:
    """Cache entries for `keys` in order (None when never fetched): DataLoader batch function."""
    found: dict[str, SpotifyTrackInfo] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), LOOKUP_BATCH):
        batch = unique[start : start + LOOKUP_BATCH]
        for entry in await SpotifyTrackInfo.find({"_id": {"$in": batch}}).to_list():
            found[entry.id] = entry
    return [found.get(key) for key in keys]


async def load_artist_images(names: Sequence[str]) -> list[str | None]:
    """Image URLs for catalog artist names, in order: DataLoader batch function.

    Artists are cached as their songs are enriched. Two Spotify artists with one name give
    None: no photo beats the wrong person's photo.
    """
    wanted = [normalise(name) for name in names]
    images: dict[str, set[str | None]] = {}
    unique = list(dict.fromkeys(key for key in wanted if key))
    for start in range(0, len(unique), LOOKUP_BATCH):
        batch = unique[start : start + LOOKUP_BATCH]
        query = {"name_lc": {"$in": batch}, "status": FetchStatus.OK.value}
        for artist in await SpotifyArtistInfo.find(query).to_list():
            images.setdefault(artist.name_lc or "", set()).add(artist.image_url)
    return [next(iter(images[key])) if len(images.get(key, ())) == 1 else None for key in wanted]
