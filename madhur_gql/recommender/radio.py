"""Radio stations: an endless, non-repeating list that stays on its seed and bends with feedback.

A station is its seed's **pool** (the songs it may play) with a **station score** per song:

- song: the ``STATION_POOL`` songs most like it (item graphs + sound, as ``similarSongs``);
- artist: the artist's songs, then those of the most similar artists until the pool is full;
  score = artist similarity (the seed artist counts 1) and closeness to the artist's sound;
- genre: the genre's songs; score = popularity and closeness to the genre's sound;
- mood: the best-matching ``mood_keep`` share of the catalog; score = the mood match.

Each page re-ranks the pool for the listener: the station score, the listener's taste (when
they have one), and their ``Steering`` (hidden artists out, local lift, songs like their skips
and dislikes lower - including the ones recorded a moment ago, which is how a station bends).
What was played is not stored here: the caller passes it in (the cursor's Bloom filter), so a
station needs no server-side session. At most ``ARTIST_CAP`` songs by one artist in any
``ARTIST_WINDOW`` consecutive songs, across pages (the caller passes the recent artists too).
"""

from __future__ import annotations

import zlib
from collections.abc import Container, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from madhur_gql.recommender.artists import artist_similarity
from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.graphs import ItemGraphs
from madhur_gql.recommender.items import ItemTable
from madhur_gql.recommender.mood import Mood, mood_scores
from madhur_gql.recommender.profiles import Profile
from madhur_gql.recommender.rerank import mood_cutoff
from madhur_gql.recommender.scoring import CFModels, score_similar, score_taste
from madhur_gql.recommender.steering import Steering

STATION_POOL = 2000  # songs a song or artist station draws from
TASTE_SHARE = 0.35  # share of a page's ranking taken by the listener's taste
ARTIST_CAP = 2
ARTIST_WINDOW = 10


class SeedKind(StrEnum):
    SONG = "song"
    ARTIST = "artist"
    GENRE = "genre"
    MOOD = "mood"


@dataclass(frozen=True, slots=True)
class StationSeed:
    """What a station plays around: a song id, an artist name, a genre or a mood."""

    kind: SeedKind
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.value.strip().lower()}"


@dataclass(frozen=True, slots=True)
class Station:
    pool: np.ndarray  # item rows
    score: np.ndarray  # station score per pool row, 0..1

    @property
    def size(self) -> int:
        return int(self.pool.size)


def artist_key(name: str) -> int:
    """A short, process-independent key of an artist name (for the cursor's recent artists)."""
    return zlib.crc32(name.strip().lower().encode())


def station(
    items: ItemTable, graphs: ItemGraphs, config: EngineConfig, seed: StationSeed
) -> Station:
    """The pool and station scores of a seed (empty for an unknown seed)."""
    empty = Station(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    vec = items.content.vectors
    if seed.kind is SeedKind.SONG:
        row = items.song_row(seed.value)
        if row is None:
            return empty
        cand, base, _, _ = score_similar(items, graphs, config, row)
        keep = items.alive[cand] & (cand != row)
        return _top(cand[keep], base[keep], STATION_POOL)
    if seed.kind is SeedKind.ARTIST:
        code = items.artist_code(seed.value)
        if code is None:
            return empty
        sims = artist_similarity(items, graphs, code)
        sims[code] = 1.0
        by_artist = sims[items.artist_codes]
        rows = np.flatnonzero(items.alive & (by_artist >= 0))
        order = rows[np.argsort(-by_artist[rows], kind="stable")]
        pool = order[:STATION_POOL]
        # the pool ends at an artist boundary: all of the last artist's songs or none
        if order.size > STATION_POOL:
            last = items.artist_codes[order[STATION_POOL - 1]]
            pool = order[
                : STATION_POOL + int((items.artist_codes[order[STATION_POOL:]] == last).sum())
            ]
        own = np.flatnonzero((items.artist_codes == code) & items.alive)
        centre = vec[own].mean(axis=0)
        centre /= float(np.linalg.norm(centre)) or 1.0
        sound = np.maximum(vec[pool] @ centre, 0.0)
        return Station(pool, (0.6 * by_artist[pool] + 0.4 * sound).astype(np.float32))
    if seed.kind is SeedKind.GENRE:
        pool = np.flatnonzero(items.genre_mask(seed.value) & items.alive)
        if pool.size == 0:
            return empty
        centre = vec[pool].mean(axis=0)
        centre /= float(np.linalg.norm(centre)) or 1.0
        sound = np.maximum(vec[pool] @ centre, 0.0)
        pop = items.popular_score[pool]
        top = float(pop.max()) or 1.0
        return Station(pool, (0.6 * pop / top + 0.4 * sound).astype(np.float32))
    scores = mood_scores(items.unit, Mood(seed.value))
    alive = items.alive
    cutoff = mood_cutoff(scores, alive, config.mood_keep)
    pool = np.flatnonzero(alive & (scores >= cutoff))
    return Station(pool, scores[pool].astype(np.float32))


def _top(rows: np.ndarray, score: np.ndarray, count: int) -> Station:
    if rows.size > count:
        keep = np.argpartition(-score, count - 1)[:count]
        rows, score = rows[keep], score[keep]
    top = float(score.max()) if score.size else 0.0
    return Station(rows, (score / top if top > 0 else score).astype(np.float32))


def next_page(
    items: ItemTable,
    graphs: ItemGraphs,
    config: EngineConfig,
    found: Station,
    profile: Profile,
    steering: Steering | None,
    played: Container[str],
    recent_artists: Sequence[int],
    first: int,
) -> tuple[list[int], list[float], list[int]]:
    """(rows, scores, artist keys) of the next ``first`` songs for this listener, none of
    ``played``."""
    pool = found.pool
    if pool.size == 0 or first <= 0:
        return [], [], []
    score = found.score.astype(np.float32)
    if profile.has_taste:
        scored = score_taste(items, CFModels(graphs), config, profile.items, profile.weights)
        taste = scored.base[pool] if scored.dense else _aligned(scored.cand, scored.base, pool)
        top = float(taste.max()) if taste.size else 0.0
        if top > 0:
            score = (1.0 - TASTE_SHARE) * score + TASTE_SHARE * (taste / top)
    valid = items.alive[pool].copy()
    if profile.excluded.size:
        valid &= ~np.isin(pool, profile.excluded)
    if steering is not None:
        valid, score = steering.apply(items, pool, score, valid, profile)
    ids = items.ids
    valid &= np.fromiter((ids[r] not in played for r in pool.tolist()), dtype=bool, count=pool.size)
    order = np.flatnonzero(valid)
    order = order[np.argsort(-score[order], kind="stable")]
    names = items.artist_names()
    keys: dict[int, int] = {}
    window = list(recent_artists)[-(ARTIST_WINDOW - 1) :]
    chosen: list[int] = []
    picked: list[float] = []
    artists: list[int] = []
    for position in order.tolist():
        if len(chosen) >= first:
            break
        code = int(items.artist_codes[pool[position]])
        key = keys.setdefault(code, artist_key(names[code]))
        if window.count(key) >= ARTIST_CAP:
            continue
        chosen.append(int(pool[position]))
        picked.append(float(score[position]))
        artists.append(key)
        window = [*window, key][-(ARTIST_WINDOW - 1) :]
    return chosen, picked, artists


def _aligned(cand: np.ndarray, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values`` (aligned with sorted ``cand``) at ``rows``; 0 where ``rows`` are not in it."""
    out = np.zeros(rows.size, dtype=np.float32)
    p = np.searchsorted(cand, rows)
    inside = p < cand.size
    hit = inside.copy()
    hit[inside] = cand[p[inside]] == rows[inside]
    out[hit] = values[p[hit]]
    return out
