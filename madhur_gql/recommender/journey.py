"""Mood journeys: an ordered list that moves from one mood's region to another's.

The iso principle of music therapy: meet the listener where they are, then lead. Positions
1-3 aim at the first mood's point on the valence-energy plane, the last three at the second
mood's, and the ones between step along the straight line between them. Each position takes
the best unused song within ``TOLERANCE`` of its target (widened step by step when none is
left, never past ``REGION`` at either end), best meaning the caller's score for the song (the
listener's taste, or popularity for a newcomer) and closeness to the target in equal parts. No
artist plays twice in a row.

A mood's region is the disc of radius ``REGION`` around its (valence, energy) target.
"""

from __future__ import annotations

import numpy as np

from madhur_gql.recommender.features import FEATURE_INDEX
from madhur_gql.recommender.items import ItemTable
from madhur_gql.recommender.mood import MOOD_TARGETS, REGION_RADIUS, Mood

REGION = REGION_RADIUS
TOLERANCE = 0.08
MAX_TOLERANCE = 0.3
ENDS = 3  # songs held in each mood's region
CLOSENESS_SHARE = 0.5


def mood_point(mood: Mood) -> tuple[float, float]:
    """A mood's (valence, energy) target."""
    spec = MOOD_TARGETS[Mood(mood)]
    return spec["valence"][0], spec["energy"][0]


def plan(start: Mood, end: Mood, length: int) -> np.ndarray:
    """(length, 2) valence-energy targets: ``ENDS`` at each end, a straight line between."""
    a, b = np.array(mood_point(start)), np.array(mood_point(end))
    targets = np.empty((length, 2))
    middle = max(length - 2 * ENDS + 1, 1)
    for i in range(length):
        t = min(max(i - (ENDS - 1), 0) / middle, 1.0)
        targets[i] = a + (b - a) * t
    return targets


def journey(
    items: ItemTable, start: Mood, end: Mood, length: int, score: np.ndarray, valid: np.ndarray
) -> list[tuple[int, float]]:
    """(row, closeness 0..1) per position; ``score`` and ``valid`` are per catalog row."""
    points = items.raw[:, [FEATURE_INDEX["valence"], FEATURE_INDEX["energy"]]]
    targets = plan(start, end, length)
    top = float(score[valid].max()) if valid.any() else 0.0
    preference = score / top if top > 0 else np.zeros_like(score)
    free = valid.copy()
    out: list[tuple[int, float]] = []
    previous = -1
    for i, target in enumerate(targets):
        limit = REGION if i < ENDS or i >= length - ENDS else MAX_TOLERANCE
        distance = np.linalg.norm(points - target, axis=1)
        tolerance = TOLERANCE
        while True:
            near = free & (distance <= tolerance)
            if previous >= 0:
                near &= items.artist_codes != previous
            if near.any() or tolerance >= limit:
                break
            tolerance = min(tolerance * 1.5, limit)
        rows = np.flatnonzero(near)
        if rows.size == 0:
            break
        closeness = 1.0 - distance[rows] / tolerance
        value = CLOSENESS_SHARE * closeness + (1.0 - CLOSENESS_SHARE) * preference[rows]
        best = int(np.argmax(value))
        row = int(rows[best])
        out.append((row, float(max(closeness[best], 0.0))))
        free[row] = False
        previous = int(items.artist_codes[row])
    return out
