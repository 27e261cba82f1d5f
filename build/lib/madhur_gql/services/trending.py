"""Trending songs: plays with exponential time decay, kept in memory and updated per play.

A play at time t adds exp((t - t0) / tau) to its song's score, where t0 is a fixed origin.
Every score would be multiplied by the same exp(-(now - t0) / tau) to get the decayed value,
so the ranking needs no periodic decay pass; the origin moves forward before the numbers
grow large.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from madhur_gql.documents import Interaction, InteractionKind

HALF_LIFE = timedelta(days=2)
WINDOW = timedelta(days=14)
_TAU = HALF_LIFE.total_seconds() / math.log(2)
_REBASE_AFTER = 200 * _TAU  # exp(200) is far from float overflow (exp(709))


class TrendingScores:
    def __init__(self, origin: datetime | None = None) -> None:
        self._origin = origin or datetime.now(UTC)
        self._scores: dict[str, float] = {}

    def add_play(self, song_id: str, at: datetime, weight: float = 1.0) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        offset = (at - self._origin).total_seconds()
        if offset > _REBASE_AFTER:
            self._rebase(at)
            offset = 0.0
        self._scores[song_id] = self._scores.get(song_id, 0.0) + weight * math.exp(offset / _TAU)

    def remove(self, song_id: str) -> None:
        self._scores.pop(song_id, None)

    def _rebase(self, origin: datetime) -> None:
        factor = math.exp(-(origin - self._origin).total_seconds() / _TAU)
        self._scores = {k: v * factor for k, v in self._scores.items() if v * factor > 1e-12}
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
