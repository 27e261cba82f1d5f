"""Moods as targets on Russell's valence-energy (arousal) plane.

Each mood is one target vector over a few audio features (all on the 0..1 scale of
:func:`madhur_gql.recommender.features.unit_scale`: tempo 50..200 BPM and loudness -30..0 dB are
rescaled) with a weight per feature. Valence and energy carry most weight (Russell's circumplex:
happy = positive/aroused, calm = positive/low arousal, sad = negative/low, angry = negative/high);
tempo, acousticness, danceability, instrumentalness, speechiness and loudness refine moods that
the plane alone cannot separate (focus vs calm, party vs energetic).

| mood | valence | energy | dance | tempo | acoustic | instrumental | speech | loudness |
|---|---|---|---|---|---|---|---|---|
| HAPPY | 0.80 (w1.0) | 0.65 (w0.6) | 0.65 (w0.4) |  |  |  |  |  |
| SAD | 0.20 (w1.0) | 0.30 (w0.7) |  | 0.35 (w0.2) | 0.60 (w0.3) |  |  |  |
| CALM | 0.50 (w0.3) | 0.20 (w1.0) |  | 0.30 (w0.3) | 0.70 (w0.5) |  |  | 0.40 (w0.3) |
| ENERGETIC | 0.60 (w0.3) | 0.90 (w1.0) |  | 0.70 (w0.4) |  |  |  | 0.85 (w0.3) |
| ROMANTIC | 0.60 (w0.6) | 0.35 (w0.6) | 0.55 (w0.2) |  | 0.50 (w0.3) | 0.00 (w0.3) |  |  |
| FOCUS | 0.40 (w0.2) | 0.40 (w0.4) |  |  |  | 0.80 (w0.8) | 0.03 (w0.6) |  |
| PARTY | 0.70 (w0.4) | 0.80 (w0.7) | 0.80 (w1.0) | 0.60 (w0.2) |  |  |  |  |
| ANGRY | 0.20 (w0.8) | 0.90 (w1.0) |  |  |  |  |  | 0.90 (w0.3) |
| CHILL | 0.55 (w0.4) | 0.35 (w0.8) | 0.60 (w0.3) |  | 0.50 (w0.3) |  |  |  |

Score = ``1 - sqrt(sum_f w_f (x_f - t_f)^2 / sum_f w_f)``: 1.0 on target, falling with a
weighted RMS distance, so scores are comparable across moods and stay in 0..1.
Free coordinates (valence and/or energy, 0..1) use the same formula with weight 1 per given axis.

A mood's **region** is the disc of radius ``REGION_RADIUS`` around its (valence, energy) target
(free coordinates: around the given point, on the given axes). Mood-steered lists keep to the
region while it has enough songs, and only a song inside it is said to match the mood.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from madhur_gql.recommender.features import FEATURE_INDEX, FEATURE_NAMES


class Mood(StrEnum):
    """Listening moods exposed by the API."""

    HAPPY = "HAPPY"
    SAD = "SAD"
    CALM = "CALM"
    ENERGETIC = "ENERGETIC"
    ROMANTIC = "ROMANTIC"
    FOCUS = "FOCUS"
    PARTY = "PARTY"
    ANGRY = "ANGRY"
    CHILL = "CHILL"


# mood -> {feature: (target, weight)}; the single source of truth for the docstring table.
MOOD_TARGETS: dict[Mood, dict[str, tuple[float, float]]] = {
    Mood.HAPPY: {"valence": (0.80, 1.0), "energy": (0.65, 0.6), "danceability": (0.65, 0.4)},
    Mood.SAD: {
        "valence": (0.20, 1.0),
        "energy": (0.30, 0.7),
        "tempo": (0.35, 0.2),
        "acousticness": (0.60, 0.3),
    },
    Mood.CALM: {
        "valence": (0.50, 0.3),
        "energy": (0.20, 1.0),
        "tempo": (0.30, 0.3),
        "acousticness": (0.70, 0.5),
        "loudness": (0.40, 0.3),
    },
    Mood.ENERGETIC: {
        "valence": (0.60, 0.3),
        "energy": (0.90, 1.0),
        "tempo": (0.70, 0.4),
        "loudness": (0.85, 0.3),
    },
    Mood.ROMANTIC: {
        "valence": (0.60, 0.6),
        "energy": (0.35, 0.6),
        "danceability": (0.55, 0.2),
        "acousticness": (0.50, 0.3),
        "instrumentalness": (0.00, 0.3),
    },
    Mood.FOCUS: {
        "valence": (0.40, 0.2),
        "energy": (0.40, 0.4),
        "instrumentalness": (0.80, 0.8),
        "speechiness": (0.03, 0.6),
    },
    Mood.PARTY: {
        "valence": (0.70, 0.4),
        "energy": (0.80, 0.7),
        "danceability": (0.80, 1.0),
        "tempo": (0.60, 0.2),
    },
    Mood.ANGRY: {"valence": (0.20, 0.8), "energy": (0.90, 1.0), "loudness": (0.90, 0.3)},
    Mood.CHILL: {
        "valence": (0.55, 0.4),
        "energy": (0.35, 0.8),
        "danceability": (0.60, 0.3),
        "acousticness": (0.50, 0.3),
    },
}

REGION_RADIUS = 0.2

_SHORT = {
    "danceability": "dance",
    "acousticness": "acoustic",
    "instrumentalness": "instrumental",
    "speechiness": "speech",
}
_PHRASES: dict[Mood, str] = {m: m.value.lower() for m in Mood}


def target_vectors(
    mood: Mood | None = None, valence: float | None = None, energy: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(target, weight) arrays over FEATURE_NAMES; explicit valence/energy override the mood's."""
    target = np.zeros(len(FEATURE_NAMES), dtype=np.float32)
    weight = np.zeros(len(FEATURE_NAMES), dtype=np.float32)
    if mood is not None:
        for name, (t, w) in MOOD_TARGETS[Mood(mood)].items():
            target[FEATURE_INDEX[name]], weight[FEATURE_INDEX[name]] = t, w
    for name, value in (("valence", valence), ("energy", energy)):
        if value is not None:
            i = FEATURE_INDEX[name]
            target[i] = float(np.clip(value, 0.0, 1.0))
            weight[i] = max(float(weight[i]), 1.0)
    return target, weight


def mood_scores(
    unit_features: np.ndarray,
    mood: Mood | None = None,
    *,
    valence: float | None = None,
    energy: float | None = None,
) -> np.ndarray:
    """Score every item (rows of 0..1 features) against a mood and/or coordinates, in 0..1."""
    target, weight = target_vectors(mood, valence, energy)
    total = float(weight.sum())
    if total == 0.0:
        return np.ones(unit_features.shape[0], dtype=np.float32)
    acc = np.zeros(unit_features.shape[0], dtype=np.float32)
    for j in np.flatnonzero(weight):  # one contiguous-ish column at a time: no (n, d) temporary
        d = unit_features[:, j] - target[j]
        d *= d
        d *= weight[j] / total
        acc += d
    np.sqrt(acc, out=acc)
    np.subtract(1.0, acc, out=acc)
    return np.clip(acc, 0.0, 1.0, out=acc)


def region_point(
    mood: Mood | None = None, valence: float | None = None, energy: float | None = None
) -> tuple[float | None, float | None]:
    """The (valence, energy) centre of the region; explicit coordinates override the mood's,
    None for an axis neither gives."""
    v = e = None
    if mood is not None:
        spec = MOOD_TARGETS[Mood(mood)]
        v, e = spec["valence"][0], spec["energy"][0]
    if valence is not None:
        v = float(np.clip(valence, 0.0, 1.0))
    if energy is not None:
        e = float(np.clip(energy, 0.0, 1.0))
    return v, e


def in_region(
    unit_features: np.ndarray,
    mood: Mood | None = None,
    *,
    valence: float | None = None,
    energy: float | None = None,
) -> np.ndarray:
    """Per item (rows of 0..1 features): inside the region of the mood or coordinates."""
    v, e = region_point(mood, valence, energy)
    acc = np.zeros(unit_features.shape[0], dtype=np.float32)
    for name, centre in (("valence", v), ("energy", e)):
        if centre is not None:
            d = unit_features[:, FEATURE_INDEX[name]] - np.float32(centre)
            acc += d * d
    return np.asarray(np.nan_to_num(acc, nan=np.inf) <= REGION_RADIUS**2)


def _vibe_words(valence: float | None, energy: float | None) -> str:
    parts = []
    if valence is not None:
        parts.append("upbeat" if valence >= 0.5 else "melancholic")
    if energy is not None:
        parts.append("energetic" if energy >= 0.5 else "mellow")
    return " and ".join(parts)


def describe(
    mood: Mood | None = None, valence: float | None = None, energy: float | None = None
) -> str:
    """Reason phrase for a pick inside the region, e.g. "Matches your calm mood"."""
    if mood is not None:
        return f"Matches your {_PHRASES[Mood(mood)]} mood"
    words = _vibe_words(valence, energy)
    return f"Fits your {words} vibe" if words else "Picked for you"


def closest(
    mood: Mood | None = None, valence: float | None = None, energy: float | None = None
) -> str:
    """Reason phrase for a pick outside the region: the best the catalog has, said as such."""
    if mood is not None:
        return f"The closest we have to {_PHRASES[Mood(mood)]}"
    words = _vibe_words(valence, energy)
    return f"The closest we have to your {words} vibe" if words else "Picked for you"


def markdown_table() -> str:
    """The mood table rendered from MOOD_TARGETS (kept in sync with the module docstring)."""
    cols = (
        "valence",
        "energy",
        "danceability",
        "tempo",
        "acousticness",
        "instrumentalness",
        "speechiness",
        "loudness",
    )
    labels = [_SHORT.get(c, c) for c in cols]
    lines = ["| mood | " + " | ".join(labels) + " |", "|---|" + "---|" * len(cols)]
    for mood, spec in MOOD_TARGETS.items():
        cells = [f"{spec[c][0]:.2f} (w{spec[c][1]:.1f})" if c in spec else "" for c in cols]
        lines.append(f"| {mood.value} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
