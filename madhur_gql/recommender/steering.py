"""What a listener and a request add to any list: hard filters, targets, local lift, "avoid".

One ``Steering`` value travels with a request (``RecommendationRequest.steering``) and is
applied to scored candidates by the engine and by every generated list (radio, journeys,
mixes), so "no song by a hidden artist" or "songs like a disliked one rank lower" hold in all of
them from one place:

- hard filters: feature ``min``/``max`` bounds (raw units: BPM, dB, popularity 0..100), hidden
  artists;
- seed genres: their songs gain ``genre_lift`` (the seeds' top songs shape the taste too);
- ``target`` values pull the ranking: the target match (``1 -`` RMS distance on the 0..1 scale
  moods use) takes ``target_weight`` of the score;
- local lift: songs in one of the listener's languages or from their country gain
  ``local_lift`` (added to the 0..1 score; ``MADHUR_LOCAL_LIFT``);
- avoid: each song loses up to ``avoid_weight`` for its audio closeness to the listener's
  negative items (dislikes, skips; an early skip weighs more than a late one), scaled by how
  negative each one is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from madhur_gql.recommender.features import FEATURE_INDEX, FEATURE_NAMES, unit_scale
from madhur_gql.recommender.feedback import DISLIKE_WEIGHT
from madhur_gql.recommender.items import ItemTable, code
from madhur_gql.recommender.profiles import Profile

POPULARITY = "popularity"
STEERABLE = (*FEATURE_NAMES, POPULARITY)
AVOID_ITEMS = 50  # strongest negative items considered per request
_AVOID_REF = float(np.log1p(-DISLIKE_WEIGHT))  # a fresh dislike's profile weight


@dataclass(frozen=True, slots=True)
class FeatureBounds:
    """Raw-unit bounds and target for one feature (any may be None)."""

    min: float | None = None
    max: float | None = None
    target: float | None = None


@dataclass(frozen=True, slots=True)
class Steering:
    """Filters and score adjustments for one listener's request; see the module docstring."""

    features: tuple[tuple[str, FeatureBounds], ...] = ()
    hidden_artists: frozenset[str] = frozenset()  # lower-cased artist names
    lifted_genres: frozenset[str] = frozenset()  # seed genres: their songs gain genre_lift
    preferred_languages: frozenset[str] = frozenset()
    home_country: str | None = None
    local_lift: float = 0.0
    target_weight: float = 0.7
    genre_lift: float = 0.2
    avoid_weight: float = 0.35

    @property
    def has_targets(self) -> bool:
        return any(b.target is not None for _, b in self.features)

    def eligible(self, items: ItemTable, cand: np.ndarray) -> np.ndarray:
        """Bool per candidate: passes every hard filter."""
        ok = np.ones(cand.size, dtype=bool)
        for name, bounds in self.features:
            values = _raw_column(items, name, cand)
            if bounds.min is not None:
                ok &= values >= bounds.min
            if bounds.max is not None:
                ok &= values <= bounds.max
        if self.hidden_artists:
            codes = [c for c in map(items.artist_code, self.hidden_artists) if c is not None]
            if codes:
                ok &= ~np.isin(items.artist_codes[cand], np.asarray(codes, dtype=np.int32))
        return ok

    def adjust(
        self, items: ItemTable, cand: np.ndarray, base: np.ndarray, profile: Profile
    ) -> np.ndarray:
        """Scores with targets, local lift and the avoid penalty applied (a new array)."""
        scale, offset = self.adjustment(items, cand, profile)
        return (scale * np.asarray(base, dtype=np.float32) + offset).astype(np.float32)

    def adjustment(
        self, items: ItemTable, cand: np.ndarray, profile: Profile
    ) -> tuple[float, np.ndarray]:
        """``adjust`` is affine in the score: (scale, offset), so a list that carries two
        score arrays (ranked and shown) pays for the avoid penalty once."""
        scale = 1.0
        offset = np.zeros(cand.size, dtype=np.float32)
        if self.has_targets:
            scale = 1.0 - self.target_weight
            offset += self.target_weight * self.target_match(items, cand)
        if self.local_lift:
            offset += self.local_lift * self.local(items, cand)
        if self.lifted_genres:
            hit = np.zeros(cand.size, dtype=bool)
            for genre in self.lifted_genres:
                hit |= items.genre_mask(genre)[cand]
            offset += self.genre_lift * hit
        if self.avoid_weight:
            offset -= self.avoid_weight * avoid_penalty(items, cand, profile)
        return scale, offset

    def apply(
        self,
        items: ItemTable,
        cand: np.ndarray,
        base: np.ndarray,
        valid: np.ndarray,
        profile: Profile,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(valid, base) after the hard filters and the score adjustments."""
        return valid & self.eligible(items, cand), self.adjust(items, cand, base, profile)

    def target_match(self, items: ItemTable, cand: np.ndarray) -> np.ndarray:
        """1 - RMS distance to the targets on the 0..1 scale (1 on target)."""
        acc = np.zeros(cand.size, dtype=np.float32)
        count = 0
        for name, bounds in self.features:
            if bounds.target is None:
                continue
            values = _unit_column(items, name, cand)
            d = values - _unit_value(name, bounds.target)
            acc += d * d
            count += 1
        return np.clip(1.0 - np.sqrt(acc / max(count, 1)), 0.0, 1.0)

    def local(self, items: ItemTable, cand: np.ndarray) -> np.ndarray:
        """1.0 for songs in a preferred language or from the home country, else 0."""
        hit = np.zeros(cand.size, dtype=bool)
        if self.preferred_languages:
            hit |= np.isin(items.languages[cand], [code(c) for c in self.preferred_languages])
        if self.home_country:
            hit |= items.countries[cand] == code(self.home_country)
        return hit.astype(np.float32)


def avoid_penalty(items: ItemTable, cand: np.ndarray, profile: Profile) -> np.ndarray:
    """0..~1 per candidate: max over negative items of (strength share) * cosine^2."""
    negative = profile.weights < 0
    if not negative.any() or cand.size == 0:
        return np.zeros(cand.size, dtype=np.float32)
    rows, weights = profile.items[negative], -profile.weights[negative]
    if rows.size > AVOID_ITEMS:
        top = np.argpartition(-weights, AVOID_ITEMS - 1)[:AVOID_ITEMS]
        rows, weights = rows[top], weights[top]
    vec = items.content.vectors
    pool = vec if items.is_all(cand) else vec[cand]
    sim = np.ascontiguousarray(vec[rows]) @ pool.T  # (negatives, candidates): BLAS's fast shape
    np.maximum(sim, 0.0, out=sim)
    sim *= sim
    sim *= np.minimum(weights / _AVOID_REF, 1.5).astype(np.float32)[:, None]
    return sim.max(axis=0).astype(np.float32)


def _raw_column(items: ItemTable, name: str, cand: np.ndarray) -> np.ndarray:
    if name == POPULARITY:
        return items.popularity[cand]
    return items.raw[cand, FEATURE_INDEX[name]]


def _unit_column(items: ItemTable, name: str, cand: np.ndarray) -> np.ndarray:
    if name == POPULARITY:
        return np.clip(items.popularity[cand] / 100.0, 0.0, 1.0)
    return items.unit[cand, FEATURE_INDEX[name]]


def _unit_value(name: str, value: float) -> float:
    """A raw target on the 0..1 scale (tempo and loudness rescaled as for moods)."""
    if name == POPULARITY:
        return float(np.clip(value / 100.0, 0.0, 1.0))
    raw = np.full((1, len(FEATURE_NAMES)), np.nan, dtype=np.float32)
    raw[0, FEATURE_INDEX[name]] = value
    return float(unit_scale(raw)[0, FEATURE_INDEX[name]])
