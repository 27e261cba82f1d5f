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
    out = x.tocsc(copy=True)
    out.data = (out.data > 0).astype(np.float32)
    out.eliminate_zeros()
    out.sort_indices()  # counts() intersects sorted row lists
    return out


def _grow(m: sp.csc_matrix, n: int) -> sp.csc_matrix:
    if m.shape[1] >= n:
        return m
    indptr = np.concatenate([m.indptr, np.full(n - m.shape[1], m.indptr[-1])])
    return sp.csc_matrix((m.data, m.indices, indptr), shape=(m.shape[0], n))


@dataclass(slots=True)
class LinkSources:
    """Playlist rows and listener rows (histories, bulk histories) of the build's matrix."""

    playlists: sp.csc_matrix
    listeners: sp.csc_matrix

    @classmethod
    def empty(cls, n: int = 0) -> LinkSources:
        none = sp.csc_matrix((0, n), dtype=np.float32)
        return cls(none, none.copy())

    @classmethod
    def split(cls, x: sp.csr_matrix, playlist_rows: int) -> LinkSources:
        """``x``'s first ``playlist_rows`` rows are playlists, the rest listeners."""
        return cls(_binary(x[:playlist_rows]), _binary(x[playlist_rows:]))

    def grow(self, n: int) -> None:
        """Empty columns for songs added since the build."""
        self.playlists = _grow(self.playlists, n)
        self.listeners = _grow(self.listeners, n)

    def counts(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each pair ``(a[k], b[k])``: (playlists holding both, listeners holding both).

        A sorted-intersection of two columns' row lists per pair: a list names a few dozen
        pairs, where slicing and multiplying sparse blocks cost several times more."""
        out = []
        pairs = list(zip(a.tolist(), b.tolist(), strict=True))
        for m in (self.playlists, self.listeners):
            ptr, rows = m.indptr, m.indices
            n = m.shape[1]
            counts = np.zeros(len(pairs), dtype=np.int64)
            for k, (i, j) in enumerate(pairs):
                if i < n and j < n:
                    x, y = rows[ptr[i] : ptr[i + 1]], rows[ptr[j] : ptr[j + 1]]
                    if x.size and y.size:
                        counts[k] = np.intersect1d(x, y, assume_unique=True).size
            out.append(counts)
        return out[0], out[1]

    def basis(self, a: np.ndarray, b: np.ndarray) -> list[Basis | None]:
        """Per pair, the evidence that links it: listeners when at least as many listeners as
        playlists hold both, playlists when only they do, None when no row holds both (a link
        the models inferred, which no reason may claim as co-occurrence)."""
        playlists, listeners = self.counts(a, b)
        return [
            Basis.LISTENERS if lis and lis >= pl else Basis.PLAYLISTS if pl else None
            for pl, lis in zip(playlists.tolist(), listeners.tolist(), strict=True)
        ]

    def nbytes(self) -> int:
        return sum(
            int(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes)
            for m in (self.playlists, self.listeners)
        )
