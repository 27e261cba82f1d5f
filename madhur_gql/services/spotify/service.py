"""The background enrichment worker.

Requests only read the cache (`cache.py`) and drop uncached ids into a bounded queue; a fixed
number of worker tasks drain it at the configured rate. A full queue drops ids instead of
blocking: they are asked for again the next time someone views the song.
"""

from __future__ import annotations

import asyncio

import structlog

from madhur_gql.config import Settings
from madhur_gql.documents.common import utcnow
from madhur_gql.documents.spotify import SpotifyTrackInfo
from madhur_gql.integrations.spotify.client import SpotifyClient, SpotifyCredentialsRejected
from madhur_gql.services.spotify.enricher import Enricher

log = structlog.get_logger(__name__)


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
