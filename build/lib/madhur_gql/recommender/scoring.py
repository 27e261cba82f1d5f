"""Scoring: a taste (weighted item rows) -> blended relevance of candidate items.

Per item, ``(1 - cw) * cf + cw * content``: ``cf`` from the item graphs, ``content`` the cosine
to the taste's mean audio vector (clipped at 0), ``cw`` the item's content weight (high for
songs with little CF evidence, so new songs rank through content). Up to ``dense_limit`` items
every song is a candidate; above it, the CF graphs' reach plus an IVF content shortlist (plus
any ``extra`` rows, e.g. the best mood matches), so cost follows the history, not the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.graphs import ItemGraphs, positions
from madhur_gql.recommender.items import ItemTable


@dataclass(frozen=True, slots=True)
class Scored:
    """One scoring pass; arrays are aligned with ``cand``."""

    cand: np.ndarray  # item rows (``items.arange`` itself when every item is scored)
    base: np.ndarray  # blended relevance, 0..1
    cf: np.ndarray
    content: np.ndarray
    taste: np.ndarray | None  # unit mean audio vector of the taste (None without features)
    dense: bool

    def uses_cf(self, position: int, content_weight: float) -> bool:
        """Whether CF, rather than content, carried the pick at ``position``."""
        return bool(
            (1.0 - content_weight) * self.cf[position] >= content_weight * self.content[position]
        )


def blend(cf: np.ndarray, content: np.ndarray, cw: np.ndarray) -> np.ndarray:
    """``(1 - cw) * cf + cw * content``, in two in-place passes."""
    base = content - cf
    base *= cw
    base += cf
    return base


def taste_vector(items: ItemTable, idx: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """Unit mean audio vector of the positive taste items (None without features)."""
    pos = w > 0
    if not pos.any():
        return None
    profile = items.content.profile(idx[pos], w[pos])
    norm = float(np.linalg.norm(profile))
    return (profile / norm).astype(np.float32) if norm > 0 else None


def score_taste(
    items: ItemTable,
    graphs: ItemGraphs,
    config: EngineConfig,
    idx: np.ndarray,
    w: np.ndarray,
    *,
    extra: np.ndarray | None = None,
) -> Scored:
    """Score a taste once: every item on small catalogs, a candidate set on large ones."""
    taste = taste_vector(items, idx, w)
    vec = items.content.vectors
    if items.ivf is None:
        cf = graphs.dense_scores(idx, w, items.debias)
        if taste is None:
            content = np.zeros(len(items), dtype=np.float32)
        else:
            content = vec @ taste
            np.maximum(content, 0.0, out=content)
        base = blend(cf, content, items.content_weight)
        return Scored(items.arange, base, cf, content, taste, dense=True)
    cf_cand, cf_vals = graphs.sparse_scores(idx, w, items.debias)
    cand = cf_cand
    if taste is not None:
        shortlist = items.ivf.search(vec, taste, config.content_candidates, config.ivf_probe)
        cand = np.union1d(cf_cand, shortlist)
    if extra is not None:
        cand = np.union1d(cand, extra)
    cf = np.zeros(cand.size, dtype=np.float32)
    cf[np.searchsorted(cand, cf_cand)] = cf_vals
    if taste is None:
        content = np.zeros(cand.size, dtype=np.float32)
    else:
        content = np.maximum(vec[cand] @ taste, 0.0)
    base = blend(cf, content, items.content_weight[cand])
    return Scored(cand, base, cf, content, taste, dense=False)


def widen(items: ItemTable, scored: Scored) -> Scored:
    """A shortlist pass extended to every item, reusing its CF scores (items outside the
    graphs' reach have CF 0) and its taste vector: for filters that leave too few candidates."""
    if scored.dense:
        return scored
    n = len(items)
    cf = np.zeros(n, dtype=np.float32)
    cf[scored.cand] = scored.cf
    if scored.taste is None:
        content = np.zeros(n, dtype=np.float32)
    else:
        content = items.content.vectors @ scored.taste
        np.maximum(content, 0.0, out=content)
    base = blend(cf, content, items.content_weight)
    return Scored(items.arange, base, cf, content, scored.taste, dense=True)


def score_similar(
    items: ItemTable, graphs: ItemGraphs, config: EngineConfig, row: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(candidates, blended, cf, content) for songs like one song: its CF neighbours in each
    graph (max-normalised, summed, scaled to 0..1) blended with audio similarity by the song's
    own content weight."""
    vec = items.content.vectors
    rows = graphs.neighbours(row)
    if items.ivf is None:
        cand = items.arange
        content = np.maximum(vec @ vec[row], 0.0)
    else:
        shortlist = items.ivf.search(vec, vec[row], config.content_candidates, config.ivf_probe)
        cand = np.union1d(np.concatenate([r.indices for r in rows] + [shortlist]), [row])
        content = np.maximum(vec[cand] @ vec[row], 0.0)
    cf = np.zeros(cand.size, dtype=np.float32)
    for r in rows:
        if r.nnz and r.data.max() > 0:
            cf[positions(cand, r.indices)] += np.maximum(r.data, 0.0) / r.data.max()
    if cf.size and cf.max() > 0:
        cf /= cf.max()
    cw = float(items.content_weight[row])
    base = (1.0 - cw) * cf + cw * content
    return cand, base, cf, content
