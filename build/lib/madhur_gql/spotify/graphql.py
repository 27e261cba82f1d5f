"""What Song's Spotify fields resolve through: the request's cache loader, never Spotify itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
import structlog

from madhur_gql.spotify import documents
from madhur_gql.spotify.documents import SpotifyTrackInfo

if TYPE_CHECKING:
    from madhur_gql.graphql.context import Context

log = structlog.get_logger(__name__)

CoverSize = strawberry.enum(
    documents.CoverSize,
    name="CoverSize",
    description="Album cover size: SMALL about 64 px, MEDIUM about 300 px, LARGE about 640 px.",
)


async def spotify_track_info(context: Context, track_id: str) -> SpotifyTrackInfo | None:
    """The cached entry (None when unknown), queueing the song when missing or stale.

    A failing cache read gives null fields, not an error: artwork never breaks a song list.
    """
    try:
        entry = await context.loaders.spotify_track.load(track_id)
    except Exception:
        log.exception("spotify cache read failed", track_id=track_id)
        return None
    context.services.spotify.want(track_id, entry)
    return entry
