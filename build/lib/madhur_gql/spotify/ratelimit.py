"""An asyncio token bucket shared by all Spotify calls of one process.

Spotify limits an app over a rolling window and answers 429 when it is exceeded; pacing every
request (and pausing everyone on a 429) keeps us under that line instead of bouncing off it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    """`rate` requests per second, at most `burst` back to back; `pause` stops everyone."""

    def __init__(
        self, rate: float, burst: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None

    @property
    def paused_for(self) -> float:
        """Seconds left of a pause Spotify asked for (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """No request leaves for `seconds` (a 429's Retry-After applies to the whole app)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self) -> None:
        # The lock queues callers in arrival order, so one waiter sleeps at a time.
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)
