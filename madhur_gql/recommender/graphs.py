"""Collaborative item graphs: learnt at build time, grown in place as songs are added.

Two item x item graphs are learnt from one interaction matrix (rows: playlists, binary; users,
log1p of their positive strengths; optional bulk histories): RP3beta top-``neighbours`` and
EASE pruned to top-``ease_keep`` over the items with the most evidence. A profile is scored
against each graph separately (max-normalised); ``scoring`` decides how they are blended.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from madhur_gql.recommender.collaborative import ease_sparse, rp3beta_similarity
from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.provenance import LinkSources


def interaction_matrix(
    groups: Sequence[Sequence[str]],
    index: Mapping[str, int],
    histories: Iterable[Sequence[tuple[int, float]]],
    n: int,
    bulk: sp.csr_matrix | None = None,
    weights: Sequence[float] | None = None,
) -> sp.csr_matrix:
    """Rows x items evidence: groups of >= 2 known items (1 each), user histories (log1p,
    so a listener's repeats count less and less, times the listener's weight: fresh or thin
    accounts count less in what everyone shares), bulk rows (log1p, only when they have
    ``n`` columns); duplicates summed."""
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    r = 0
    for group in groups:
        idx = {index[g] for g in group if g in index}
        if len(idx) < 2:
            continue
        rows.extend([r] * len(idx))
        cols.extend(idx)
        vals.extend([1.0] * len(idx))
        r += 1
    for k, history in enumerate(histories):
        weight = weights[k] if weights is not None else 1.0
        for i, s in history:
            rows.append(r)
            cols.append(i)
            vals.append(weight * math.log1p(s))
        r += 1
    x = sp.csr_matrix(
        (np.asarray(vals, dtype=np.float32), (np.asarray(rows), np.asarray(cols))),
        shape=(r, n),
    )
    if bulk is not None and bulk.shape[1] == n:
        extra = bulk.tocsr().astype(np.float32, copy=True)
        extra.data = np.log1p(np.maximum(extra.data, 0.0))
        x = sp.vstack([x, extra], format="csr")
    x.sum_duplicates()
    return x


def interaction_rows(
    groups: Sequence[Sequence[str]], index: Mapping[str, int], histories: Sequence[object]
) -> int:
    """Rows :func:`interaction_matrix` makes before any bulk rows: playlists of >= 2 known
    songs, then one per history (so history ``k`` is row ``result - len(histories) + k``)."""
    playlists = sum(1 for g in groups if len({index[s] for s in g if s in index}) >= 2)
    return playlists + len(histories)


def evidence_of(x: sp.csr_matrix) -> np.ndarray:
    """Rows (users/groups) in which each item appears."""
    return np.diff(x.tocsc().indptr).astype(np.float32)


@dataclass(slots=True)
class ItemGraphs:
    """The CF item graphs the engine serves (RP3beta first, then pruned EASE if learnt), and
    the support behind their links."""

    matrices: list[sp.csr_matrix] = field(default_factory=list)
    # the established rows (playlists, established listeners, bulk histories) holding each
    # item: the engine's LinkSources, shared rather than kept twice (10M entries at 10M plays)
    support: LinkSources | None = None
    min_support: int = 0  # links with fewer established rows behind them are not shown

    @classmethod
    def learn(cls, x: sp.csr_matrix, evidence: np.ndarray, config: EngineConfig) -> ItemGraphs:
        graphs = cls()
        r, n = x.shape
        if not (r and n):
            return graphs
        cfg = config
        k = cfg.large_neighbours if n > cfg.dense_limit else cfg.neighbours
        rp3 = rp3beta_similarity(x, k, alpha=cfg.rp3_alpha, beta=cfg.rp3_beta)
        graphs.matrices.append(rp3)
        eligible = np.flatnonzero(evidence >= cfg.ease_min_evidence)
        if eligible.size > cfg.ease_items:
            by_evidence = np.argsort(-evidence[eligible], kind="stable")
            eligible = np.sort(eligible[by_evidence[: cfg.ease_items]])
        if eligible.size >= 2:
            sub = x[:, eligible]
            mass = float(np.asarray(sub.multiply(sub).sum(axis=0)).mean())
            l2 = max(cfg.ease_l2_ratio * mass, 1e-3)
            graphs.matrices.append(ease_sparse(x, eligible, l2, cfg.ease_keep))
        return graphs

    def grow(self, n: int) -> None:
        """Pad every graph with empty rows/columns up to n x n (songs added since the build);
        the support grows with the engine's link sources."""
        self.matrices = [_grow(g, n) for g in self.matrices]

    @property
    def edges(self) -> int:
        return sum(int(g.nnz) for g in self.matrices)

    def nbytes(self) -> int:
        return sum(int(g.data.nbytes + g.indices.nbytes + g.indptr.nbytes) for g in self.matrices)

    @property
    def rp3(self) -> int | None:
        """Position of the RP3beta graph in :attr:`matrices` (None before a build)."""
        return 0 if self.matrices else None

    @property
    def ease(self) -> int | None:
        """Position of the pruned EASE graph (None when too few items had evidence)."""
        return 1 if len(self.matrices) > 1 else None

    def dense_parts(self, idx: np.ndarray, w: np.ndarray, n: int) -> list[np.ndarray]:
        """Per graph, ``profile @ graph`` for every item, max-normalised (the taste's own
        items are 0 and never set the scale; dislikes leave negative entries); float64."""
        own = idx
        out: list[np.ndarray] = []
        for graph in self.matrices:
            cols, data, counts = gather_rows(graph, idx)
            s: np.ndarray = np.asarray(
                np.bincount(cols, weights=np.repeat(w, counts) * data, minlength=n),
                dtype=np.float64,
            )[:n]
            s[own] = 0.0
            out.append(_unit_max(s))
        return out

    def sparse_parts(self, idx: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """:meth:`dense_parts` restricted to the items the graphs reach: (sorted item rows,
        per-graph scores aligned with them). Cost follows the history, not the catalog."""
        if idx.size == 0 or not self.matrices:
            return np.zeros(0, dtype=np.int64), [np.zeros(0) for _ in self.matrices]
        parts = [gather_rows(graph, idx) for graph in self.matrices]
        cand, inverse = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
        own = positions(cand, idx)
        out: list[np.ndarray] = []
        offset = 0
        for cols, data, counts in parts:
            inv = inverse[offset : offset + cols.size]
            offset += cols.size
            s = np.bincount(inv, weights=np.repeat(w, counts) * data, minlength=cand.size)
            s = s.astype(np.float64, copy=False)
            s[own] = 0.0
            out.append(_unit_max(s))
        return cand, out

    def contributions(self, idx: np.ndarray, w: np.ndarray, picks: np.ndarray) -> np.ndarray:
        """(history x picks) CF contribution of each history item to each pick, per graph
        max-normalised and summed (what the explanations rank); 0 where fewer than
        ``min_support`` established listeners (or playlists) hold both songs.

        The history's graph rows are gathered once and matched against the (few) picks:
        scipy's fancy indexing and a support product over every pair cost 2 ms a list, most
        of an engine call; the support is counted only for the pairs the graphs link."""
        out = np.zeros((idx.size, picks.size), dtype=np.float64)
        if idx.size == 0 or picks.size == 0:
            return out
        order = np.argsort(picks, kind="stable")
        ordered = picks[order]
        for graph in self.matrices:
            cols, data, counts = gather_rows(graph, idx)
            at = np.minimum(np.searchsorted(ordered, cols), ordered.size - 1)
            hit = ordered[at] == cols
            block = np.zeros_like(out)
            rows = np.repeat(np.arange(idx.size), counts)[hit]
            block[rows, order[at[hit]]] = data[hit]
            block *= w[:, None]
            top = np.abs(block).max(axis=0, keepdims=True)
            top[top == 0] = 1.0
            out += block / top
        if self.support is not None and self.min_support > 0:
            linked_rows, linked_picks = np.nonzero(out)
            held = self.support.pair_support(idx[linked_rows], picks[linked_picks])
            weak = held < self.min_support
            out[linked_rows[weak], linked_picks[weak]] = 0.0
        return out

    def neighbours(self, row: int) -> list[sp.csr_matrix]:
        """One item's row in every graph (for similar songs)."""
        return [graph[row] for graph in self.matrices]


def _unit_max(s: np.ndarray) -> np.ndarray:
    """Scale so the largest entry is 1, in place. Negative entries (songs like a disliked
    one) stay negative: the blend subtracts them before it clips at 0."""
    top = float(s.max()) if s.size else 0.0
    if top > 0:
        s *= 1.0 / top
    return s


def _grow(graph: sp.csr_matrix, n: int) -> sp.csr_matrix:
    indptr = np.concatenate([graph.indptr, np.full(n - graph.shape[0], graph.indptr[-1])])
    return sp.csr_matrix((graph.data, graph.indices, indptr), shape=(n, n))


def gather_rows(
    graph: sp.csr_matrix, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(columns, values, per-row counts) of the given CSR rows.

    Plain slices + one concatenate: for the few dozen rows of one user's history this is
    several times cheaper than scipy fancy indexing or an index-arithmetic gather.
    """
    indptr = graph.indptr
    starts = indptr[rows].tolist()
    ends = indptr[rows + 1].tolist()
    counts = np.asarray(ends, dtype=np.int64) - np.asarray(starts, dtype=np.int64)
    if not starts or counts.sum() == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), counts
    ind, dat = graph.indices, graph.data
    pairs = list(zip(starts, ends, strict=True))
    cols = np.concatenate([ind[a:b] for a, b in pairs])
    vals = np.concatenate([dat[a:b] for a, b in pairs])
    return cols, vals, counts


def positions(sorted_items: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Positions in ``sorted_items`` of those ``items`` it contains."""
    if sorted_items.size == 0 or items.size == 0:
        return np.zeros(0, dtype=np.int64)
    p = np.searchsorted(sorted_items, items)
    inside = p < sorted_items.size
    p, items = p[inside], items[inside]
    return p[sorted_items[p] == items]
