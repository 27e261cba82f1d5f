"""Where a collaborative link comes from: imported playlists or listeners' histories.

The item graphs blend both kinds of rows, so a link alone cannot say which one stands behind
it. ``LinkSources`` keeps the two row sets apart (binary, by item column) so an explanation
can count, for one pair of songs, the playlists and the listeners holding both, and name the
larger as the evidence ("Often in the same playlists as ...", "Listeners of ... also ...").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from madhur_gql.recommender.values import Basis


def _binary(x: sp.csr_matrix) -> sp.csc_matrix:
    """Which rows hold each item, by column; bool values (a byte an entry, not four: only
    the row indices are read, and at 10M plays there are 10M entries)."""
    out = x.tocsc(copy=True)
    out.data = out.data > 0
    out.eliminate_zeros()
    out.sort_indices()  # counts() intersects sorted row lists
    return out


def _grow(m: sp.csc_matrix, n: int) -> sp.csc_matrix:
    if m.shape[1] >= n:
        return m
    indptr = np.concatenate([m.indptr, np.full(n - m.shape[1], m.indptr[-1])])
    return sp.csc_matrix((m.data, m.indices, indptr), shape=(m.shape[0], n))


def _gather(m: sp.csc_matrix, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row indices of the given columns, concatenated, and which column each came from."""
    starts, ends = m.indptr[cols], m.indptr[cols + 1]
    lens = (ends - starts).astype(np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return m.indices[offsets + np.arange(int(lens.sum()))], np.repeat(np.arange(cols.size), lens)


def _pair_counts(m: sp.csc_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows holding both columns of each pair: one sorted intersection of (pair, row) keys
    for the whole list (a list names a few dozen pairs; no sparse block is built)."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    known = (a < m.shape[1]) & (b < m.shape[1])  # songs added since the build: no rows
    out = np.zeros(a.size, dtype=np.int64)
    if not known.any() or m.shape[0] == 0:
        return out
    at = np.flatnonzero(known)
    rows_a, pair_a = _gather(m, a[at])
    rows_b, pair_b = _gather(m, b[at])
    span = np.int64(m.shape[0])
    both = np.intersect1d(pair_a * span + rows_a, pair_b * span + rows_b, assume_unique=True)
    out[at] = np.bincount(both // span, minlength=at.size)
    return out


@dataclass(slots=True)
class LinkSources:
    """Playlist rows and established listener rows (histories, bulk histories) of the build's
    matrix: the rows ``EngineConfig.min_support`` counts."""

    playlists: sp.csc_matrix
    listeners: sp.csc_matrix

    @classmethod
    def empty(cls, n: int = 0) -> LinkSources:
        none = sp.csc_matrix((0, n), dtype=np.float32)
        return cls(none, none.copy())

    @classmethod
    def split(
        cls, x: sp.csr_matrix, playlist_rows: int, established: np.ndarray | None = None
    ) -> LinkSources:
        """``x``'s first ``playlist_rows`` rows are playlists, the rest listeners; of those,
        only the ``established`` rows (default: all) count as evidence anyone may be told."""
        listeners = np.arange(playlist_rows, x.shape[0])
        if established is not None:
            listeners = listeners[established[playlist_rows:]]
        return cls(_binary(x[:playlist_rows]), _binary(x[listeners]))

    def grow(self, n: int) -> None:
        """Empty columns for songs added since the build."""
        self.playlists = _grow(self.playlists, n)
        self.listeners = _grow(self.listeners, n)

    def counts(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each pair ``(a[k], b[k])``: (playlists holding both, listeners holding both)."""
        return _pair_counts(self.playlists, a, b), _pair_counts(self.listeners, a, b)

    def pair_support(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For each pair ``(a[k], b[k])``: how many rows (playlists and established
        listeners) hold both songs, the support the graphs' ``min_support`` asks of a link."""
        playlists, listeners = self.counts(a, b)
        return playlists + listeners

    def holders(self) -> np.ndarray:
        """How many rows (playlists and established listeners) hold each item."""
        return np.diff(self.playlists.indptr) + np.diff(self.listeners.indptr)

    def basis(self, a: np.ndarray, b: np.ndarray, min_support: int = 1) -> list[Basis | None]:
        """Per pair, the evidence that links it: listeners when at least as many listeners as
        playlists hold both, playlists otherwise; None when fewer than ``min_support`` rows
        hold both (a link the models inferred, or one too few stand behind, which no reason
        may claim)."""
        playlists, listeners = self.counts(a, b)
        least = max(min_support, 1)
        return [
            None if pl + lis < least else Basis.LISTENERS if lis >= pl else Basis.PLAYLISTS
            for pl, lis in zip(playlists.tolist(), listeners.tolist(), strict=True)
        ]

    def nbytes(self) -> int:
        return sum(
            int(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes)
            for m in (self.playlists, self.listeners)
        )
