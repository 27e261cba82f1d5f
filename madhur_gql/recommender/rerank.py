"""From scored candidates to the final list: mood steering, then MMR with an artist cap.

Pure functions over the item table's arrays; nothing here learns or stores anything.
"""

from __future__ import annotations

import numpy as np

from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.items import ItemTable
from madhur_gql.recommender.mood import in_region, mood_scores
from madhur_gql.recommender.values import RecommendationRequest


def best_mood_rows(items: ItemTable, request: RecommendationRequest, count: int) -> np.ndarray:
    """Rows of the ``count`` items matching the request's mood best (unordered)."""
    full = mood_scores(items.unit, request.mood, valence=request.valence, energy=request.energy)
    m = min(count, full.size)
    return np.argpartition(-full, m - 1)[:m]


def mood_cutoff(mscore: np.ndarray, valid: np.ndarray, keep: float) -> float:
    """Score of the best ``keep`` share among valid items (strided sample when huge)."""
    step = max(1, mscore.size // 100_000)
    vals = mscore[::step][valid[::step]]
    if vals.size == 0:
        return 0.0
    kth = int((1.0 - keep) * (vals.size - 1))
    return float(np.partition(vals, kth)[kth])


def steer_by_mood(
    items: ItemTable,
    config: EngineConfig,
    request: RecommendationRequest,
    cand: np.ndarray,
    base: np.ndarray,
    valid: np.ndarray,
    *,
    personal: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """(valid, base) with the mood applied. Eligible, in order of preference while at least
    ``first`` items qualify: the mood's region among its best-matching ``mood_keep`` share, the
    whole region, that share alone (a catalog with too little in the region), everything. The
    mood match takes ``mood_weight`` of a personal score, 80% of a popular one."""
    unit = items.unit if items.is_all(cand) else items.unit[cand]
    mscore = mood_scores(unit, request.mood, valence=request.valence, energy=request.energy)
    region = valid & in_region(unit, request.mood, valence=request.valence, energy=request.energy)
    best = mscore >= mood_cutoff(mscore, valid, config.mood_keep)
    for eligible in (region & best, region, valid & best):
        if int(eligible.sum()) >= request.first:
            valid = eligible
            break
    if personal:
        mw = config.mood_weight
        return valid, (1.0 - mw) * base + mw * mscore
    return valid, 0.8 * mscore + 0.2 * base


def select(
    items: ItemTable,
    cand: np.ndarray,
    score: np.ndarray,
    k: int,
    diversity: float,
    max_per_artist: int,
    pool: int,
) -> np.ndarray:
    """Positions (into ``cand``) of the picks: the top ``max(pool, 10 k)`` by score, then
    greedy MMR over content vectors (``diversity`` 0..1) with at most ``max_per_artist``
    picks per artist (0: no cap)."""
    if cand.size == 0:
        return np.zeros(0, dtype=np.int64)
    pool = min(cand.size, max(pool, 10 * k))
    s = score
    where = np.arange(cand.size)
    if pool < cand.size:
        where = np.argpartition(-s, pool - 1)[:pool]
    where = where[np.argsort(-s[where], kind="stable")]
    rows, s = cand[where], s[where].astype(np.float64)
    lam = float(np.clip(diversity, 0.0, 1.0))
    vec = items.content.vectors[rows]
    max_sim = np.zeros(rows.size, dtype=np.float64)
    taken = np.zeros(rows.size, dtype=bool)
    per_artist: dict[int, int] = {}
    cap = max_per_artist if max_per_artist > 0 else k
    chosen: list[int] = []
    artists = items.artist_codes[rows]
    while len(chosen) < k:
        mmr = (1.0 - lam) * s - lam * max_sim
        mmr[taken] = -np.inf
        best = int(np.argmax(mmr))
        if not np.isfinite(mmr[best]):
            break
        taken[best] = True
        a = int(artists[best])
        if per_artist.get(a, 0) >= cap:
            continue
        per_artist[a] = per_artist.get(a, 0) + 1
        chosen.append(best)
        if lam > 0:
            np.maximum(max_sim, np.maximum(vec @ vec[best], 0.0), out=max_sim)
    return where[np.asarray(chosen, dtype=np.int64)]
