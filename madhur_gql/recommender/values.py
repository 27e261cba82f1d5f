"""The values the engine takes and gives: catalog snapshot, events, the request, picks.

Plain frozen dataclasses with no behaviour, so the service layer and the tests can build them
without touching the engine's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from madhur_gql.recommender.mood import Mood

if TYPE_CHECKING:
    from madhur_gql.recommender.steering import Steering


class Source(StrEnum):
    """Which signal produced a pick."""

    COLLABORATIVE = "COLLABORATIVE"
    CONTENT = "CONTENT"
    MOOD = "MOOD"
    POPULAR = "POPULAR"
    SEED = "SEED"


class Basis(StrEnum):
    """What the evidence behind a pick is, so its reason can name it truthfully."""

    PLAYLISTS = "PLAYLISTS"  # the pick and the named song share imported playlists
    LISTENERS = "LISTENERS"  # listeners who liked or played the named song did the pick too
    LIKED = "LIKED"  # sounds like a song the caller liked
    PLAYED = "PLAYED"  # sounds like a song the caller played (and did not like)
    SOUND = "SOUND"  # sounds like the named song (no claim about the caller)


@dataclass(frozen=True, slots=True)
class CatalogItems:
    """Snapshot of the song catalog built by the service layer."""

    ids: list[str]
    features: np.ndarray  # (n, len(FEATURE_NAMES)) float32 raw values; NaN = unknown
    artists: list[str]
    genres: list[tuple[str, ...]]
    popularity: np.ndarray  # (n,) float32 0..100
    groups: list[list[str]] = field(default_factory=list)  # co-occurrence seeds (playlists)
    languages: list[str] = field(default_factory=list)  # ISO 639-1 or "" per item (or none)
    countries: list[str] = field(default_factory=list)  # ISO 3166-1 alpha-2 or "" per item
    # per item, its recording (domain.recordings.recording_key); versions of one recording are
    # one song to the engine. Empty: every item its own recording.
    recordings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Event:
    """One user interaction."""

    user_id: str
    item_id: str
    kind: str  # "play" | "like" | "unlike" | "skip" | "rating"
    at: datetime
    value: float | None = None  # rating 1..5; for "play", an aggregated play count


@dataclass(frozen=True, slots=True)
class RecommendationRequest:
    """What a caller asks for, carried unchanged from the GraphQL resolver to the engine.

    ``mood`` or the ``valence``/``energy`` targets (0..1) steer the list; ``seeds`` (song ids)
    replace the listener's history as the taste ("more like these"); ``genre``, ``language``
    (ISO 639-1) and ``country`` (ISO 3166-1 alpha-2) filter;
    ``diversity`` (0..1) trades relevance for variety in the re-rank. Validation of user input
    happens in the GraphQL layer; this value trusts its fields.
    """

    first: int = 20
    mood: Mood | None = None
    valence: float | None = None
    energy: float | None = None
    seeds: tuple[str, ...] = ()
    genre: str | None = None
    language: str | None = None
    country: str | None = None
    diversity: float = 0.3
    max_per_artist: int = 2  # 0: no cap
    exclude: frozenset[str] = frozenset()
    steering: Steering | None = None  # listener filters, targets, local lift, avoid

    @property
    def steered(self) -> bool:
        """True when a mood or a valence/energy target is asked for."""
        return self.mood is not None or self.valence is not None or self.energy is not None


@dataclass(frozen=True, slots=True)
class Vibe:
    """The mood or valence/energy targets a list was steered by, and whether this pick is
    inside their region (:func:`madhur_gql.recommender.mood.in_region`)."""

    mood: Mood | None = None
    valence: float | None = None
    energy: float | None = None
    inside: bool = True


@dataclass(frozen=True, slots=True)
class Pick:
    """One recommended item with the evidence for it (item ids in ``because``, what kind of
    evidence they are in ``basis``)."""

    item_id: str
    score: float
    source: Source
    because: tuple[str, ...] = ()
    mood: Mood | None = None  # a mood the pick is known to sit in (journeys)
    basis: Basis | None = None
    vibe: Vibe | None = None  # set when the list was steered by a mood or targets
