"""How strongly negative feedback counts: dislikes ("not for me") and skips by when they happen.

A skip in the first seconds says "wrong song"; one near the end says little more than "next".
The weight falls from ``EARLY_SKIP_WEIGHT`` at 0 s towards ``LATE_SKIP_WEIGHT``, halving its
distance every ``SKIP_HALF_SECONDS``; a skip without ``playedSeconds`` keeps the old -1.5.
A dislike outweighs any skip and, like a skip, keeps the song out of every list.
"""

from __future__ import annotations

DISLIKE_WEIGHT = -4.0
SKIP_WEIGHT = -1.5  # no playedSeconds given
EARLY_SKIP_WEIGHT = -3.0  # skipped at 0 s
LATE_SKIP_WEIGHT = -0.5  # the limit for skips late in a song
SKIP_HALF_SECONDS = 10.0


def skip_weight(played_seconds: float | None) -> float:
    """Signed strength of one skip after ``played_seconds`` of the song."""
    if played_seconds is None:
        return SKIP_WEIGHT
    fade = 0.5 ** (max(float(played_seconds), 0.0) / SKIP_HALF_SECONDS)
    return LATE_SKIP_WEIGHT + (EARLY_SKIP_WEIGHT - LATE_SKIP_WEIGHT) * fade
