"""Wake-ups for live lists: a listener's subscriptions learn that their list is stale.

The door through which interactions reach the recommender (own writes and the change
stream alike, so a write on any worker counts) rings `changed(user_id)` once it has fed
one. A subscription holds one `asyncio.Event`; several rings before it wakes are one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from madhur_gql.errors import TooManyRequests

MAX_SUBSCRIPTIONS_PER_LISTENER = 5


class ListenerSignals:
    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = {}

    def changed(self, user_id: str) -> None:
        for event in self._waiting.get(user_id, ()):
            event.set()

    @contextmanager
    def watch(self, user_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever `user_id`'s interactions change; forgotten on exit."""
        events = self._waiting.setdefault(user_id, set())
        if len(events) >= MAX_SUBSCRIPTIONS_PER_LISTENER:
            raise TooManyRequests(
                f"At most {MAX_SUBSCRIPTIONS_PER_LISTENER} live lists per listener at once."
            )
        event = asyncio.Event()
        events.add(event)
        try:
            yield event
        finally:
            events.discard(event)
            if not events:
                self._waiting.pop(user_id, None)

    def __len__(self) -> int:
        return sum(len(events) for events in self._waiting.values())
