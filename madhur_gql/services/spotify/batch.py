"""Filling the Spotify cache in bulk, at the configured request rate (`madhur-gql enrich`).

The background worker only enriches songs people look at; this fills the rest ahead of time.
It uses the same client (rate limit, 429/5xx policy) and the same cache entries.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from madhur_gql.config import Settings
from madhur_gql.documents import Song
from madhur_gql.documents.common import utcnow
from madhur_gql.documents.spotify import SpotifyTrackInfo
from madhur_gql.integrations.spotify.client import SpotifyClient
from madhur_gql.services.spotify.enricher import Enricher


@dataclass
class EnrichReport:
    selected: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # FetchStatus value or "skipped"
    requests: Counter[str] = field(default_factory=Counter)  # "token" / "api"
    seconds: float = 0.0

    @property
    def requests_per_song(self) -> float:
        done = sum(self.outcomes.values())
        return self.requests["api"] / done if done else 0.0


async def select_songs(*, refetch: bool, limit: int | None) -> list[str]:
    """Track ids to enrich: every song (`refetch`), or those without a fresh cache entry.

    Two projections over whole collections: fine for a batch command, never for a request.
    """
    cursor = Song.get_pymongo_collection().find({}, {"track_id": 1, "_id": 0})
    keys = [doc["track_id"] async for doc in cursor]
    if not refetch:
        fresh_cursor = SpotifyTrackInfo.get_pymongo_collection().find(
            {"refresh_at": {"$gt": utcnow()}}, {"_id": 1}
        )
        fresh = {doc["_id"] async for doc in fresh_cursor}
        keys = [key for key in keys if key not in fresh]
    return keys[:limit] if limit is not None else keys


async def enrich_songs(
    settings: Settings,
    *,
    refetch: bool = False,
    limit: int | None = None,
    on_selected: Callable[[int], None] | None = None,
    on_done: Callable[[SpotifyTrackInfo | None, EnrichReport], None] | None = None,
    client: SpotifyClient | None = None,
) -> EnrichReport:
    """Enrich the selected songs with `SPOTIFY_WORKERS` concurrent fetches; needs Beanie."""
    client = client or SpotifyClient(settings)
    enricher = Enricher(client, settings)
    keys = await select_songs(refetch=refetch, limit=limit)
    report = EnrichReport(selected=len(keys), requests=client.requests)
    if on_selected:
        on_selected(len(keys))
    pending = iter(keys)
    started = time.perf_counter()

    async def work() -> None:
        for key in pending:  # shared iterator: each key goes to exactly one worker
            entry = await enricher.enrich(key, force=refetch)
            report.outcomes[entry.status.value if entry else "skipped"] += 1
            if on_done:
                on_done(entry, report)

    workers = [asyncio.create_task(work()) for _ in range(settings.spotify_workers)]
    try:
        await asyncio.gather(*workers)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        report.seconds = time.perf_counter() - started
    return report
