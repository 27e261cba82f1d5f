"""Scoring: a taste (weighted item rows) -> relevance of candidate items.

Three collaborative signals, each max-normalised over the candidates: ``factors`` (ALS, folded
in for the taste), ``rp3`` and ``ease`` (the item graphs). They make two blends, fitted on a
validation split carved from the Last.fm dev half's training side (BENCHMARKS.md):

* ``accurate = factors + ease_weight * ease`` - the most accurate ranking;
* ``broad = (factors + rp3_weight * rp3) / (evidence + 1) ** debias_gamma`` - nearly as
  accurate and reaching far more of the catalog (popularity debiasing).

Each is then blended per item with content, ``(1 - cw) * cf + cw * content`` (``content`` the
cosine to the taste's mean audio vector, ``cw`` high for songs with little CF evidence, so new
songs rank through content). :func:`final_scores` ranks a list by the accurate blend and its
last ``broad_tail`` picks by the broad one: the top of the list keeps the accuracy, its tail
buys coverage. Up to ``dense_limit`` items every song is a candidate; above it, the CF graphs'
reach plus an IVF content shortlist (plus any ``extra`` rows, e.g. the best mood matches), so
cost follows the history, not the catalog.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.factors import FactorModel
from madhur_gql.recommender.graphs import ItemGraphs, positions
from madhur_gql.recommender.items import ItemTable


@dataclass(frozen=True, slots=True)
class CFModels:
    """The collaborative state a build learns: item graphs and the factor model."""

    graphs: ItemGraphs
    factors: FactorModel | None = None


@dataclass(frozen=True, slots=True)
class Scored:
    """One scoring pass; arrays are aligned with ``cand``."""

    cand: np.ndarray  # item rows (``items.arange`` itself when every item is scored)
    base: np.ndarray  # accurate blend with content, 0..1
    broad: np.ndarray  # broad (debiased) blend with content, 0..1
    cf: np.ndarray  # accurate collaborative part alone
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


def _unit(s: np.ndarray) -> np.ndarray:
    np.maximum(s, 0.0, out=s)
    top = float(s.max()) if s.size else 0.0
    if top > 0:
        s *= 1.0 / top
    return s


def _cf_blends(
    config: EngineConfig,
    graphs: ItemGraphs,
    parts: list[np.ndarray],
    factor: np.ndarray | None,
    debias: np.ndarray,
    graph_debias: np.ndarray,
    supported: np.ndarray,
    size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(accurate, broad) collaborative scores, each scaled to 0..1, float32.

    Without a factor model (too few listeners at build) both are the graphs' debiased sum.
    Items no established listener holds (`supported` False) get no collaborative score at
    all, from the graphs or the factors: a ring of fresh accounts cannot lift a song."""
    if factor is None:
        total = np.zeros(size, dtype=np.float64)
        for part in parts:
            total += part
        total *= graph_debias * supported
        out = _unit(total).astype(np.float32)
        return out, out
    acc = factor.copy()
    broad = factor.copy()
    if graphs.ease is not None:
        acc += config.ease_weight * parts[graphs.ease]
    if graphs.rp3 is not None:
        broad += config.rp3_weight * parts[graphs.rp3]
    acc *= supported
    broad *= debias * supported
    return _unit(acc).astype(np.float32), _unit(broad).astype(np.float32)


def _factor_scores(
    models: CFModels,
    user: np.ndarray | None,
    idx: np.ndarray,
    w: np.ndarray,
    rows: np.ndarray | None,
    n: int,
) -> np.ndarray | None:
    """Factor scores (float64, max-normalised, taste items 0) of every item or of ``rows``."""
    if models.factors is None or user is None:
        return None
    s = models.factors.scores(user, rows).astype(np.float64)
    own = idx
    if rows is None:
        s[own[own < n]] = 0.0
    else:
        s[positions(rows, own)] = 0.0
    return _unit(s)


def score_taste(
    items: ItemTable,
    models: CFModels,
    config: EngineConfig,
    idx: np.ndarray,
    w: np.ndarray,
    *,
    user: np.ndarray | None = None,
    extra: np.ndarray | None = None,
) -> Scored:
    """Score a taste once: every item on small catalogs, a candidate set on large ones.

    ``user`` is the taste's factor vector (trained or folded in); None skips the factors.
    """
    graphs = models.graphs
    taste = taste_vector(items, idx, w)
    vec = items.content.vectors
    n = len(items)
    if items.ivf is None:
        parts = graphs.dense_parts(idx, w, n)
        factor = _factor_scores(models, user, idx, w, None, n)
        acc, broad = _cf_blends(
            config, graphs, parts, factor, items.debias, items.graph_debias, items.cf_supported, n
        )
        if taste is None:
            content = np.zeros(n, dtype=np.float32)
        else:
            content = vec @ taste
            np.maximum(content, 0.0, out=content)
        cw = items.content_weight
        base, wide = blend(acc, content, cw), blend(broad, content, cw)
        return Scored(items.arange, base, wide, acc, content, taste, True)
    cf_cand, cf_parts = graphs.sparse_parts(idx, w)
    cand = cf_cand
    if taste is not None:
        shortlist = items.ivf.search(vec, taste, config.content_candidates, config.ivf_probe)
        cand = np.union1d(cf_cand, shortlist)
    if extra is not None:
        cand = np.union1d(cand, extra)
    at = np.searchsorted(cand, cf_cand)
    parts = []
    for part in cf_parts:
        full = np.zeros(cand.size, dtype=np.float64)
        full[at] = part
        parts.append(full)
    factor = _factor_scores(models, user, idx, w, cand, n)
    acc, broad = _cf_blends(
        config,
        graphs,
        parts,
        factor,
        items.debias[cand],
        items.graph_debias[cand],
        items.cf_supported[cand],
        cand.size,
    )
    if taste is None:
        content = np.zeros(cand.size, dtype=np.float32)
    else:
        content = np.maximum(vec[cand] @ taste, 0.0)
    cw = items.content_weight[cand]
    base, wide = blend(acc, content, cw), blend(broad, content, cw)
    return Scored(cand, base, wide, acc, content, taste, False)


def widen(
    items: ItemTable,
    models: CFModels,
    config: EngineConfig,
    scored: Scored,
    idx: np.ndarray,
    w: np.ndarray,
    user: np.ndarray | None,
) -> Scored:
    """A shortlist pass redone over every item (for filters that leave too few candidates)."""
    if scored.dense:
        return scored
    n = len(items)
    parts = models.graphs.dense_parts(idx, w, n)
    factor = _factor_scores(models, user, idx, w, None, n)
    acc, broad = _cf_blends(
        config,
        models.graphs,
        parts,
        factor,
        items.debias,
        items.graph_debias,
        items.cf_supported,
        n,
    )
    if scored.taste is None:
        content = np.zeros(n, dtype=np.float32)
    else:
        content = items.content.vectors @ scored.taste
        np.maximum(content, 0.0, out=content)
    cw = items.content_weight
    base, wide = blend(acc, content, cw), blend(broad, content, cw)
    return Scored(items.arange, base, wide, acc, content, scored.taste, True)


def final_scores(scored: Scored, valid: np.ndarray, first: int, broad_tail: int) -> np.ndarray:
    """The score candidates are ranked by: the best ``first - broad_tail`` eligible items by the
    accurate blend get ``1 + accurate`` (ahead of every other item, with their differences
    intact for the diversity re-rank), every other item its broad blend score (0..1), so the
    last ``broad_tail`` picks come from the broad blend. Clients see the relevance instead
    (``RecommenderEngine._picks``)."""
    out = scored.broad.astype(np.float64)
    head = min(max(first - broad_tail, math.ceil(first / 2)), int(valid.sum()))
    if head > 0:
        eligible = np.flatnonzero(valid)
        acc = scored.base[eligible]
        top = eligible[np.argpartition(-acc, head - 1)[:head]] if head < acc.size else eligible
        out[top] = 1.0 + scored.base[top]
    return out


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
