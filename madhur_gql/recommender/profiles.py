"""Listener profiles: each user's decayed per-item strengths, folded in event by event.

``record`` is O(1) per event; ``profile`` turns a user's signals into the weighted item list
the scorer reads (log1p-damped, time-decayed, capped to the strongest ``history_cap`` items)
plus the items that must not be recommended back (recent plays and likes, skips, dislikes).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.feedback import DISLIKE_WEIGHT, skip_weight
from madhur_gql.recommender.values import Event

EVENT_WEIGHTS: dict[str, float] = {
    "play": 1.0,
    "like": 3.0,
    "unlike": -3.0,
    "skip": -1.5,
    "dislike": DISLIKE_WEIGHT,
}
POSITIVE_KINDS = frozenset({"play", "like"})
UNKNOWN_KIND_WEIGHT = 0.5
DAY = 86400.0


def timestamp(at: datetime) -> float:
    """POSIX seconds; naive datetimes are taken as UTC (as MongoDB returns them)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def event_weight(event: Event) -> float:
    """Signed strength of one event: ratings map 1..5 to -2..+2, a play with a value counts
    that many plays (imports of aggregated histories), unknown kinds count as 0.5."""
    if event.kind == "rating":
        return (float(event.value) - 3.0) if event.value is not None else 0.0
    if event.kind == "play" and event.value is not None:
        return max(float(event.value), 0.0)  # a play count, or the share of a partial play
    if event.kind == "skip":
        return skip_weight(event.value)  # value: seconds played before the skip
    return EVENT_WEIGHTS.get(event.kind, UNKNOWN_KIND_WEIGHT)


@dataclass(frozen=True, slots=True)
class Profile:
    """A taste as the scorer reads it: item rows with signed weights, and rows to leave out."""

    items: np.ndarray  # int64 rows
    weights: np.ndarray  # float32, same length; > 0 is taste, < 0 is dislike
    excluded: np.ndarray  # int64 rows never to recommend back
    liked: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # rows liked now

    @property
    def has_taste(self) -> bool:
        return bool((self.weights > 0).any())

    @classmethod
    def empty(cls) -> Profile:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, np.zeros(0, dtype=np.float32), none)

    @classmethod
    def of_seeds(cls, rows: np.ndarray) -> Profile:
        """ "More like these": every seed counts once; nothing is excluded by the profile."""
        return cls(rows, np.ones(rows.size, dtype=np.float32), np.zeros(0, dtype=np.int64))


@dataclass(slots=True)
class _Signal:
    strength: float = 0.0
    at: float = 0.0  # timestamp the strength refers to
    last_positive: float = -math.inf
    last_skip: float = -math.inf
    liked: bool = False  # a like (or a rating above 3) not since taken back


@dataclass(slots=True)
class _User:
    items: dict[int, _Signal] = field(default_factory=dict)
    # (rows, strength, at, last_positive, last_skip, liked) arrays; rebuilt after the next event
    arrays: tuple[np.ndarray, ...] | None = None

    def columns(self) -> tuple[np.ndarray, ...]:
        if self.arrays is None:
            sigs = list(self.items.values())
            self.arrays = (
                np.fromiter(self.items.keys(), dtype=np.int64, count=len(self.items)),
                np.array([s.strength for s in sigs], dtype=np.float64),
                np.array([s.at for s in sigs], dtype=np.float64),
                np.array([s.last_positive for s in sigs], dtype=np.float64),
                np.array([s.last_skip for s in sigs], dtype=np.float64),
                np.array([s.liked for s in sigs], dtype=bool),
            )
        return self.arrays


@dataclass(slots=True)
class _Packed:
    """Users' signals as columns, one slice per user: what a build ships to the API process.

    Unpickling a dict of small objects per user runs Python code per signal (seconds at 28k
    songs, holding the GIL against the event loop); columns unpickle as a few buffers. A
    packed user becomes a `_User` again only when they record a new event.
    """

    index: dict[str, int]  # user id -> slice number (users unpacked since are gone from it)
    offsets: np.ndarray  # int64, one more than there are slices
    # rows (int32), strength (float32), at (the latest event's time, float32 seconds after
    # the last column's one float64 instant: seconds off over years, which a 90-day decay
    # does not see), at - last_positive and at - last_skip (float32: small, and 0 exactly
    # for the latest event, so a skip and a like a moment apart keep their order; inf when
    # never), liked, then that instant. 21 bytes a signal, not 41 (190 MiB at 10M plays);
    # a slice is widened back when read.
    columns: tuple[np.ndarray, ...]

    @classmethod
    def empty(cls) -> _Packed:
        return cls({}, np.zeros(1, dtype=np.int64), packed_columns([]))

    def slice(self, position: int) -> tuple[np.ndarray, ...]:
        start, end = int(self.offsets[position]), int(self.offsets[position + 1])
        rows, strength, after, since_positive, since_skip, liked = (
            column[start:end] for column in self.columns[:6]
        )
        at = after.astype(np.float64) + float(self.columns[6][0])
        return (
            rows.astype(np.int64),
            strength.astype(np.float64),
            at,
            at - since_positive,
            at - since_skip,
            liked,
        )

    def unpack(self, user_id: str) -> _User | None:
        position = self.index.pop(user_id, None)
        if position is None:
            return None
        rows, strength, at, last_positive, last_skip, liked = (
            c.tolist() for c in self.slice(position)
        )
        signals = zip(rows, strength, at, last_positive, last_skip, liked, strict=True)
        return _User({row: _Signal(s, t, p, k, q) for row, s, t, p, k, q in signals})


def packed_columns(slices: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Users' wide column slices (rows, strength, at, last_positive, last_skip, liked) as
    the packed store's narrow columns (see `_Packed.columns`)."""
    if not slices:
        wide: list[np.ndarray] = [np.zeros(0, dtype=np.float64) for _ in range(6)]
    else:
        wide = [np.concatenate([part[j] for part in slices]) for j in range(6)]
    rows, strength, at, last_positive, last_skip, liked = wide
    at = at.astype(np.float64, copy=False)
    instant = float(at.min()) if at.size else 0.0
    return (
        rows.astype(np.int32),
        strength.astype(np.float32),
        (at - instant).astype(np.float32),
        (at - last_positive).astype(np.float32),
        (at - last_skip).astype(np.float32),
        liked.astype(bool),
        np.array([instant], dtype=np.float64),
    )


class ProfileStore:
    """Every user's signals, keyed by user id; items are item-table rows."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._users: dict[str, _User] = {}
        self._packed = _Packed.empty()
        self.events = 0

    def __len__(self) -> int:
        return len(self._users) + len(self._packed.index)

    def __getstate__(self) -> dict[str, object]:
        """Every user packed into columns (see `_Packed`)."""
        ids: list[str] = []
        slices: list[tuple[np.ndarray, ...]] = []
        for user_id, position in self._packed.index.items():
            ids.append(user_id)
            slices.append(self._packed.slice(position))
        for user_id, user in self._users.items():
            ids.append(user_id)
            slices.append(user.columns())
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum([part[0].size for part in slices], out=offsets[1:])
        return {
            "config": self.config,
            "events": self.events,
            "ids": ids,
            "offsets": offsets,
            "columns": packed_columns(slices),
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        ids = state["ids"]
        assert isinstance(ids, list)
        self.config = state["config"]  # type: ignore[assignment]
        self.events = state["events"]  # type: ignore[assignment]
        self._users = {}
        self._packed = _Packed(
            dict(zip(ids, range(len(ids)), strict=True)),
            state["offsets"],  # type: ignore[arg-type]
            state["columns"],  # type: ignore[arg-type]
        )

    def _user(self, user_id: str) -> _User:
        """The user's signals, to record into (unpacked first if they were packed)."""
        user = self._users.get(user_id)
        if user is None:
            user = self._packed.unpack(user_id) or _User()
            self._users[user_id] = user
        return user

    def _columns(self, user_id: str) -> tuple[np.ndarray, ...] | None:
        user = self._users.get(user_id)
        if user is not None:
            return user.columns() if user.items else None
        position = self._packed.index.get(user_id)
        return self._packed.slice(position) if position is not None else None

    def record(self, event: Event, row: int) -> None:
        """Fold one event on item ``row`` into the user's exponentially decayed strengths."""
        user = self._user(str(event.user_id))
        user.arrays = None
        sig = user.items.setdefault(row, _Signal())
        t = timestamp(event.at)
        hl = self.config.half_life_days * DAY
        if sig.at and t > sig.at:
            sig.strength *= 0.5 ** ((t - sig.at) / hl)
            sig.at = t
        elif not sig.at:
            sig.at = t
        w = event_weight(event)
        if t < sig.at:  # an older event arriving late (another process's stream, an import):
            w *= 0.5 ** ((sig.at - t) / hl)  # it counts as it would have, had it come in order
        if event.kind == "unlike":
            sig.strength = min(sig.strength, max(sig.strength + w, 0.0))
        else:
            sig.strength += w
        if event.kind == "like" or (event.kind == "rating" and w > 0):
            sig.liked = True
        elif event.kind in ("unlike", "dislike") or (event.kind == "rating" and w < 0):
            sig.liked = False
        if event.kind in POSITIVE_KINDS or (event.kind == "rating" and w > 0):
            sig.last_positive = max(sig.last_positive, t)
        if event.kind in ("skip", "dislike") or (event.kind == "rating" and w < 0):
            sig.last_skip = max(sig.last_skip, t)
        self.events += 1

    def positive_histories(self) -> Iterator[tuple[str, list[tuple[int, float]]]]:
        """Per user with any, (user id, [(row, raw strength)] of the items with positive
        strength): the CF build input."""
        for user_id, user in self._users.items():
            pos = [(i, s.strength) for i, s in user.items.items() if s.strength > 0]
            if pos:
                yield user_id, pos
        for user_id, position in self._packed.index.items():
            rows, strength = self._packed.slice(position)[:2]
            keep = strength > 0
            if keep.any():
                yield user_id, list(zip(rows[keep].tolist(), strength[keep].tolist(), strict=True))

    def positive_count(self, user_id: str) -> int:
        """How many songs the user holds with a positive strength (likes, plays, good ratings
        not since taken back): how much their history can speak for them."""
        columns = self._columns(str(user_id))
        return 0 if columns is None else int((columns[1] > 0).sum())

    def forget(self, user_id: str) -> None:
        """Drop a user's profile (a deleted account)."""
        self._users.pop(str(user_id), None)
        self._packed.index.pop(str(user_id), None)

    def profile(self, user_id: str | None, now: float) -> Profile:
        """The user's taste at ``now`` (POSIX seconds); empty for unknown or anonymous users."""
        columns = self._columns(str(user_id)) if user_id is not None else None
        if columns is None or columns[0].size == 0:
            return Profile.empty()
        cfg = self.config
        hl = cfg.half_life_days * DAY
        recent = now - cfg.recent_days * DAY
        idx, strength, at, lastpos, lastskip, liked = columns
        decayed = strength * np.power(0.5, np.maximum(now - at, 0.0) / hl)
        decayed = np.sign(decayed) * np.log1p(np.abs(decayed))  # damp heavy repeat plays
        excluded = (lastpos >= recent) | (lastskip > -math.inf) & (lastskip >= lastpos)
        excluded |= strength < 0
        keep = decayed != 0
        idx_k, w_k = idx[keep], decayed[keep]
        if idx_k.size > cfg.history_cap:
            top = np.argpartition(-np.abs(w_k), cfg.history_cap - 1)[: cfg.history_cap]
            idx_k, w_k = idx_k[top], w_k[top]
        return Profile(idx_k, w_k.astype(np.float32), idx[excluded], idx[liked & (strength > 0)])
