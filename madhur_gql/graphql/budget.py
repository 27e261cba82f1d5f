"""A cost budget per client over time: a token bucket per account and per address.

The per-request limits bound one request; this bounds a client's stream of them. Each
bucket holds at most `capacity` cost units and refills at `capacity / window` per second; a
request is let in when every bucket of its client (its address, and its account when it
has one) holds its estimated cost, and the real cost is taken when it is known. A refusal
says how long until the bucket holds enough (`retryAfter`).

Buckets live in this process, bounded in number (least recently used go first: a full
bucket is the same as a forgotten one), so with N workers a client gets up to N budgets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from threading import Lock

from cachetools import LRUCache

MAX_CLIENTS = 100_000


@dataclass(slots=True)
class _Bucket:
    level: float
    at: float


class CostBudget:
    def __init__(
        self,
        capacity: float,
        window_seconds: float,
        *,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.rate = capacity / window_seconds
        self._clock = clock
        self._buckets: LRUCache[str, _Bucket] = LRUCache(maxsize=max_clients)
        self._lock = Lock()

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
            self._buckets[key] = bucket
        else:
            bucket.level = min(self.capacity, bucket.level + (now - bucket.at) * self.rate)
            bucket.at = now
        return bucket

    def wait_for(self, keys: Sequence[str], cost: float) -> int:
        """Seconds until every bucket holds `cost` (0: go ahead). A cost over the capacity
        is asked for as the capacity: the per-request limit is what refuses that."""
        if not self.enabled:
            return 0
        need = min(cost, self.capacity)
        now = self._clock()
        with self._lock:
            short = max((need - self._bucket(k, now).level for k in keys), default=0.0)
        return 0 if short <= 0 else max(1, math.ceil(short / self.rate))

    def spend(self, keys: Sequence[str], cost: float) -> None:
        """Take a request's cost; a bucket may go below zero (the next requests wait)."""
        if not self.enabled or cost <= 0:
            return
        now = self._clock()
        with self._lock:
            for key in keys:
                self._bucket(key, now).level -= cost

    def __len__(self) -> int:
        return len(self._buckets)
