"""The background enrichment worker and the cache reads the GraphQL layer makes.

Requests only read the cache (by `_id`, in batches) and drop uncached ids into a bounded
queue; a fixed number of worker tasks drain it at the configured rate. A full queue drops
ids instead of blocking: they are asked for again the next time someone views the song.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from madhur_gql.config import Settings
from madhur_gql.documents.common import utcnow
from madhur_gql.spotify.client import SpotifyClient, SpotifyCredentialsRejected
from madhur_gql.spotify.documents import FetchStatus, SpotifyArtistInfo, SpotifyTrackInfo
from madhur_gql.spotify.enrich import Enricher, normalise

log = structlog.get_logger(__name__)

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


class SpotifyService:
    """Owns the Spotify client, the enrichment queue and its workers for one process."""

    def __init__(self, settings: Settings | None, client: SpotifyClient | None = None) -> None:
        self.settings = settings
        self.client = client
        self.disabled_reason: str | None = None
        if settings is None:
            self.disabled_reason = "no settings given"
        elif client is None:
            if settings.spotify_client_id and settings.spotify_client_secret is not None:
                self.client = SpotifyClient(settings)
            else:
                self.disabled_reason = "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are not set"
        self.enricher = (
            Enricher(self.client, settings) if self.client and settings is not None else None
        )
        self._queue: asyncio.Queue[str] | None = None
        self._queued: set[str] = set()
        self._workers: list[asyncio.Task[None]] = []
        self.dropped = 0  # ids not queued because the queue was full

    @classmethod
    def off(cls) -> SpotifyService:
        """A service that never calls Spotify (the default when none is wired in)."""
        return cls(None)

    @property
    def running(self) -> bool:
        return self._queue is not None and self.disabled_reason is None

    async def start(self) -> None:
        if self.enricher is None or self.settings is None:
            log.info(
                "Spotify metadata is off: album covers, Spotify links and previews stay null",
                reason=self.disabled_reason,
            )
            return
        self._queue = asyncio.Queue(maxsize=self.settings.spotify_queue_size)
        self._workers = [
            asyncio.create_task(self._work(), name=f"spotify-worker-{n}")
            for n in range(self.settings.spotify_workers)
        ]
        log.info(
            "Spotify enrichment started",
            workers=len(self._workers),
            requests_per_second=self.settings.spotify_requests_per_second,
        )

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        self._queue = None
        self._queued.clear()

    def want(self, key: str, entry: SpotifyTrackInfo | None) -> None:
        """Queue `key` for enrichment unless it is fresh or queued; never blocks, never raises."""
        queue = self._queue
        if queue is None or self.disabled_reason is not None or key in self._queued:
            return
        if entry is not None and entry.refresh_at > utcnow():
            return
        try:
            queue.put_nowait(key)
        except asyncio.QueueFull:
            self.dropped += 1
            return
        self._queued.add(key)

    async def idle(self) -> None:
        """Wait until everything queued so far is done (tests and shutdown drains)."""
        if self._queue is not None:
            await self._queue.join()

    async def _work(self) -> None:
        assert self._queue is not None and self.enricher is not None
        queue, enricher = self._queue, self.enricher
        while True:
            key = await queue.get()
            try:
                if self.disabled_reason is None:
                    await enricher.enrich(key)
            except SpotifyCredentialsRejected as error:
                if self.disabled_reason is None:
                    self.disabled_reason = "Spotify rejected the client credentials"
                    log.error(
                        "Spotify rejected SPOTIFY_CLIENT_ID/SECRET: enrichment stopped",
                        error=str(error),
                    )
            except Exception:
                log.exception("spotify enrichment failed", track_id=key)
            finally:
                self._queued.discard(key)
                queue.task_done()
