"""Audio feature layout and the two normalisations the recommender uses.

* ``unit_scale`` maps raw Spotify-style values onto 0..1 per feature (tempo and loudness are
  rescaled from BPM / dB with fixed, documented ranges) - the space moods are defined in, so a
  mood's meaning does not shift when the catalog changes.
* ``standardise`` z-scores features against catalog statistics and L2-normalises rows - the
  space content similarity (cosine) is computed in, so no single wide-range feature dominates.
"""

from __future__ import annotations

import numpy as np

from madhur_gql.domain.song_fields import CONTINUOUS_FEATURES

# The song field table decides which audio features exist; the recommender keeps their order.
FEATURE_NAMES: tuple[str, ...] = CONTINUOUS_FEATURES
FEATURE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}

# Raw ranges mapped to 0..1 (values outside are clipped): tempo 50..200 BPM, loudness -30..0 dB.
TEMPO_RANGE = (50.0, 200.0)
LOUDNESS_RANGE = (-30.0, 0.0)


def unit_scale(raw: np.ndarray) -> np.ndarray:
    """Raw (n, 9) features in FEATURE_NAMES order -> float32 0..1; NaN becomes 0.5 (neutral)."""
    x = np.array(raw, dtype=np.float32, copy=True).reshape(-1, len(FEATURE_NAMES))
    t, lo = FEATURE_INDEX["tempo"], FEATURE_INDEX["loudness"]
    x[:, t] = (x[:, t] - TEMPO_RANGE[0]) / (TEMPO_RANGE[1] - TEMPO_RANGE[0])
    x[:, lo] = (x[:, lo] - LOUDNESS_RANGE[0]) / (LOUDNESS_RANGE[1] - LOUDNESS_RANGE[0])
    np.clip(x, 0.0, 1.0, out=x)
    x[np.isnan(x)] = 0.5
    return x


def feature_stats(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std (std floored) ignoring NaN, as float32."""
    x = np.asarray(raw, dtype=np.float64)
    # By hand rather than nanmean/nanstd: a feature no song has (a catalog without tempo)
    # is neutral (mean 0, std 1), not a "Mean of empty slice" warning per build.
    known = ~np.isnan(x)
    counts = known.sum(axis=0)
    values = np.where(known, x, 0.0)
    mean = np.divide(values.sum(axis=0), counts, out=np.zeros(x.shape[1]), where=counts > 0)
    spread = np.where(known, x - mean, 0.0)
    var = np.divide((spread**2).sum(axis=0), counts, out=np.ones(x.shape[1]), where=counts > 0)
    std = np.sqrt(var)
    std = np.where(np.isfinite(std) & (std > 1e-6), std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


def standardise(raw: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Z-score with given stats, NaN -> 0 (the mean), then unit-length rows (float32)."""
    z = (np.asarray(raw, dtype=np.float32) - mean) / std
    z = np.nan_to_num(z, nan=0.0).astype(np.float32)
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (z / norms).astype(np.float32)
