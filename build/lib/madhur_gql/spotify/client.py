"""spotipy behind our own retry policy, rate limit and request counter.

spotipy's built-in urllib3 retries are switched off (a plain `requests.Session` is passed in),
so this module alone decides: 429 waits `Retry-After` (and pauses every caller), 5xx and
network errors retry with exponential backoff and jitter up to `SPOTIFY_MAX_ATTEMPTS`, 404 is
an answer rather than a failure, and other 4xx are not retried. Calls run in threads so the
event loop never waits on the network.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import requests
import structlog
from spotipy import Spotify, SpotifyClientCredentials, SpotifyException, SpotifyOauthError
from spotipy.cache_handler import MemoryCacheHandler

from madhur_gql.config import Settings
from madhur_gql.spotify.documents import FetchStatus
from madhur_gql.spotify.ratelimit import RateLimiter

log = structlog.get_logger(__name__)

MAX_BACKOFF_SECONDS = 30.0
REJECTED_CREDENTIALS = {"invalid_client", "unauthorized_client"}

# spotipy logs every non-2xx at ERROR through stdlib logging; 404s are routine here and our
# own structured log records each outcome once.
logging.getLogger("spotipy").setLevel(logging.CRITICAL)


class SpotifyCredentialsRejected(Exception):
    """The token endpoint refused the client id/secret: retrying cannot help."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What one logical call came to, after retries."""

    status: FetchStatus
    body: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 1


class CountingSession(requests.Session):
    """Counts every HTTP request actually sent (tokens and retries included)."""

    def __init__(self, counter: Counter[str], lock: threading.Lock) -> None:
        super().__init__()
        self._counter = counter
        self._lock = lock

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kind = "token" if method == "POST" else "api"
        with self._lock:
            self._counter[kind] += 1
        return super().request(method, url, *args, **kwargs)


class _LockedCredentials(SpotifyClientCredentials):
    """Client-credentials manager safe to share between worker threads: one token refresh."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refresh_lock = threading.Lock()

    def get_access_token(self, as_dict: bool = True, check_cache: bool = True) -> Any:
        with self._refresh_lock:
            return super().get_access_token(as_dict=as_dict, check_cache=check_cache)

    def forget_token(self) -> None:
        with self._refresh_lock:
            self.cache_handler.token_info = None


def retry_after_seconds(headers: Any) -> float | None:
    value = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def backoff_delay(base: float, attempt: int) -> float:
    """Exponential backoff with equal jitter: half fixed, half random, so workers spread out."""
    delay = min(MAX_BACKOFF_SECONDS, base * 2 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


class SpotifyClient:
    """Async, paced, retrying access to the three endpoints we use: track, artist, search."""

    def __init__(self, settings: Settings, limiter: RateLimiter | None = None) -> None:
        if not settings.spotify_client_id or settings.spotify_client_secret is None:
            raise ValueError("SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are required")
        self.requests: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._settings = settings
        self._prefix = settings.spotify_api_url.rstrip("/") + "/"
        self.limiter = limiter or RateLimiter(settings.spotify_requests_per_second)
        self._auth = _LockedCredentials(
            client_id=settings.spotify_client_id,
            client_secret=settings.spotify_client_secret.get_secret_value(),
            requests_session=CountingSession(self.requests, self._count_lock),
            requests_timeout=settings.spotify_timeout_seconds,
            cache_handler=MemoryCacheHandler(),
        )
        self._auth.OAUTH_TOKEN_URL = settings.spotify_token_url
        # requests.Session is not thread-safe: each worker thread gets its own spotipy client.
        self._local = threading.local()

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())

    def _spotify(self) -> Spotify:
        client = getattr(self._local, "client", None)
        if client is None:
            client = Spotify(
                auth_manager=self._auth,
                requests_session=CountingSession(self.requests, self._count_lock),
                requests_timeout=self._settings.spotify_timeout_seconds,
                retries=0,
                status_retries=0,
            )
            client.prefix = self._prefix
            self._local.client = client
        return client

    async def track(self, track_id: str) -> Answer:
        return await self._call(f"track {track_id}", lambda sp: sp.track(track_id))

    async def artist(self, artist_id: str) -> Answer:
        return await self._call(f"artist {artist_id}", lambda sp: sp.artist(artist_id))

    async def search_tracks(self, query: str, limit: int = 10) -> Answer:
        return await self._call(
            f"search {query!r}", lambda sp: sp.search(query, limit=limit, type="track")
        )

    async def _call(self, what: str, fn: Callable[[Spotify], Any]) -> Answer:
        settings = self._settings
        error = "no attempt made"
        attempt = 0
        for attempt in range(1, settings.spotify_max_attempts + 1):
            await self.limiter.acquire()
            wait: float
            try:
                body = await asyncio.to_thread(lambda: fn(self._spotify()))
                return Answer(FetchStatus.OK, cast(dict[str, Any] | None, body), None, attempt)
            except SpotifyException as failure:
                status = failure.http_status
                error = f"HTTP {status}: {failure.msg}".strip()
                if status == 404:
                    return Answer(FetchStatus.NOT_FOUND, None, error, attempt)
                if status == 429:
                    wait = retry_after_seconds(failure.headers) or backoff_delay(
                        settings.spotify_backoff_seconds, attempt
                    )
                    self.limiter.pause(wait)
                    log.warning("spotify rate limit: pausing", seconds=wait, call=what)
                elif status == 401:
                    self._auth.forget_token()  # expired or revoked: fetch a new one and retry
                    wait = 0.0
                elif status >= 500:
                    wait = backoff_delay(settings.spotify_backoff_seconds, attempt)
                else:  # 400, 403...: asking again gives the same answer
                    return Answer(FetchStatus.ERROR, None, error, attempt)
            except SpotifyOauthError as failure:
                if isinstance(failure.error, str) and failure.error in REJECTED_CREDENTIALS:
                    raise SpotifyCredentialsRejected(str(failure)) from failure
                error = f"token endpoint: {failure}"
                wait = backoff_delay(settings.spotify_backoff_seconds, attempt)
            except requests.RequestException as failure:
                error = f"{type(failure).__name__}: {failure}"
                wait = backoff_delay(settings.spotify_backoff_seconds, attempt)
            if attempt < settings.spotify_max_attempts:
                log.debug("spotify call failed, retrying", call=what, error=error, wait=wait)
                await asyncio.sleep(wait)
        log.info("spotify call gave up", call=what, error=error, attempts=attempt)
        return Answer(FetchStatus.ERROR, None, error, attempt)
