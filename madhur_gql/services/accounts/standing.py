"""How much a listener counts in what everyone sees (trending, the item graph, reasons).

Accounts are free, so a fresh account is weighed at `thin_weight` until it looks like a real
listener: at least `established_days` old and with at least `min_songs` different songs in
its history. Then it counts fully. Until then its signal still shapes its own
recommendations in full; only the shared lists discount it.

Memory stays small: an account's songs are remembered only until it reaches `min_songs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, slots=True)
class StandingRules:
    established_days: float = 7.0
    min_songs: int = 5
    thin_weight: float = 0.1


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ListenerStanding:
    def __init__(self, rules: StandingRules | None = None) -> None:
        self.rules = rules or StandingRules()
        self._created: dict[str, datetime] = {}
        self._songs: dict[str, set[str]] = {}  # until the account has min_songs of them
        self._enough_songs: set[str] = set()
        self._adopted: set[str] = set()  # found established by a build
        self._listeners: list[Callable[[str, float], None]] = []

    def on_change(self, callback: Callable[[str, float], None]) -> None:
        """`callback(user_id, weight)` whenever a listener's weight changes."""
        self._listeners.append(callback)

    def observe_account(self, user_id: str, created_at: datetime) -> None:
        before = self.weight(user_id)
        self._created[user_id] = _aware(created_at)
        self._notify(user_id, before)

    def observe_song(self, user_id: str, song_id: str) -> None:
        if user_id in self._enough_songs:
            return
        songs = self._songs.setdefault(user_id, set())
        if song_id in songs:
            return
        before = self.weight(user_id)
        songs.add(song_id)
        if len(songs) >= self.rules.min_songs:
            del self._songs[user_id]
            self._enough_songs.add(user_id)
        self._notify(user_id, before)

    def adopt(self, weights: Mapping[str, float]) -> None:
        """Weights a build computed from every interaction (in its own process): a listener
        it found established counts fully here too (and their trending plays re-weigh)."""
        for user_id, weight in weights.items():
            before = self.weight(user_id)
            if weight >= 1.0:
                self._adopted.add(user_id)
            self._notify(user_id, before)

    def forget(self, user_id: str) -> None:
        self._adopted.discard(user_id)
        self._created.pop(user_id, None)
        self._songs.pop(user_id, None)
        self._enough_songs.discard(user_id)

    def established(self, user_id: str, now: datetime | None = None) -> bool:
        if user_id in self._adopted:
            return True
        created = self._created.get(user_id)
        if created is None or user_id not in self._enough_songs:
            return False
        age = (now or datetime.now(UTC)) - created
        return age >= timedelta(days=self.rules.established_days)

    def weight(self, user_id: str, now: datetime | None = None) -> float:
        return 1.0 if self.established(user_id, now) else self.rules.thin_weight

    def weights_for(
        self, events: Iterable[tuple[str, str]], accounts: Iterable[tuple[str, datetime]]
    ) -> dict[str, float]:
        """Each listener's weight from (user, song) pairs and (user, created_at) pairs."""
        users: set[str] = set()
        for user_id, song_id in events:
            users.add(user_id)
            self.observe_song(user_id, song_id)
        for user_id, created_at in accounts:
            if user_id in users:
                self.observe_account(user_id, created_at)
        return {user_id: self.weight(user_id) for user_id in users}

    def _notify(self, user_id: str, before: float) -> None:
        after = self.weight(user_id)
        if after != before:
            for callback in self._listeners:
                callback(user_id, after)
