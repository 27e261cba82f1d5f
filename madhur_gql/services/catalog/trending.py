"""Trending songs: plays with exponential time decay, kept in memory and updated per play.

A play at time t adds exp((t - t0) / tau) to its song's score, where t0 is a fixed origin.
Every score would be multiplied by the same exp(-(now - t0) / tau) to get the decayed value,
so the ranking needs no periodic decay pass; the origin moves forward before the numbers
grow large.

One listener cannot buy the top: the n-th play of a song by the same listener adds
log1p(n) - log1p(n - 1) (so n plays weigh log1p(n): 300 plays weigh as 5.7 listeners), times
the listener's standing (a fresh account counts a tenth). What each listener added is kept
per song, so a change of standing re-weighs it and a deleted account's plays come out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from madhur_gql.documents import Interaction, InteractionKind

HALF_LIFE = timedelta(days=2)
WINDOW = timedelta(days=14)
_TAU = HALF_LIFE.total_seconds() / math.log(2)
_REBASE_AFTER = 200 * _TAU  # exp(200) is far from float overflow (exp(709))


@dataclass(slots=True)
class _Share:
    """One listener's plays of one song: how many, and what they added before weighting."""

    plays: int = 0
    raw: float = 0.0


class TrendingScores:
    def __init__(self, origin: datetime | None = None) -> None:
        self._origin = origin or datetime.now(UTC)
        self._scores: dict[str, float] = {}
        self._shares: dict[str, dict[str, _Share]] = {}  # listener -> song -> share
        self._weights: dict[str, float] = {}  # listener -> standing applied to their shares
        self.version = 0  # moves with every change: orderings built from the scores key on it

    def add_play(
        self, song_id: str, at: datetime, listener: str | None = None, weight: float = 1.0
    ) -> None:
        self.version += 1
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        offset = (at - self._origin).total_seconds()
        if offset > _REBASE_AFTER:
            self._rebase(at)
            offset = 0.0
        value = math.exp(offset / _TAU)
        if listener is not None:
            share = self._shares.setdefault(listener, {}).setdefault(song_id, _Share())
            share.plays += 1
            value *= math.log1p(share.plays) - math.log1p(share.plays - 1)
            share.raw += value
            weight = self._weights.setdefault(listener, weight)
        self._scores[song_id] = self._scores.get(song_id, 0.0) + weight * value

    def reweigh(self, listener: str, weight: float) -> None:
        """A listener's standing changed: their plays so far count at the new weight."""
        self.version += 1
        before = self._weights.get(listener)
        if before is None or before == weight:
            self._weights[listener] = weight
            return
        self._weights[listener] = weight
        for song_id, share in self._shares.get(listener, {}).items():
            self._scores[song_id] = self._scores.get(song_id, 0.0) + (weight - before) * share.raw

    def forget_listener(self, listener: str) -> None:
        """Take a listener's plays back out (a deleted account)."""
        self.version += 1
        weight = self._weights.pop(listener, 1.0)
        for song_id, share in self._shares.pop(listener, {}).items():
            left = self._scores.get(song_id, 0.0) - weight * share.raw
            if left > 1e-12:
                self._scores[song_id] = left
            else:
                self._scores.pop(song_id, None)

    def remove(self, song_id: str) -> None:
        self.version += 1
        self._scores.pop(song_id, None)
        for shares in self._shares.values():
            shares.pop(song_id, None)

    def _rebase(self, origin: datetime) -> None:
        self.version += 1
        factor = math.exp(-(origin - self._origin).total_seconds() / _TAU)
        self._scores = {k: v * factor for k, v in self._scores.items() if v * factor > 1e-12}
        for listener, shares in list(self._shares.items()):
            for song_id, share in list(shares.items()):
                share.raw *= factor
                if share.raw <= 1e-12:
                    del shares[song_id]
            if not shares:
                del self._shares[listener]
                self._weights.pop(listener, None)
        self._origin = origin

    def score(self, song_id: str, now: datetime | None = None) -> float:
        """Decayed plays as of `now`: one fresh play scores 1, one half-life old scores 0.5."""
        now = now or datetime.now(UTC)
        raw = self._scores.get(song_id, 0.0)
        return raw * math.exp(-(now - self._origin).total_seconds() / _TAU)

    def raw_scores(self) -> dict[str, float]:
        """Comparable with each other (same scale), not with `score`."""
        return self._scores


async def recent_plays(now: datetime | None = None) -> Iterable[Interaction]:
    since = (now or datetime.now(UTC)) - WINDOW
    return await Interaction.find(
        Interaction.kind == InteractionKind.PLAY, Interaction.created_at >= since
    ).to_list()
