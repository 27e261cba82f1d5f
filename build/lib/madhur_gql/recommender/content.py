"""Content similarity from audio features.

Items are z-scored against catalog statistics and L2-normalised, so cosine similarity is a dot
product of float32 rows. Two uses:

* on-demand scoring of the whole catalog against a profile (a weighted sum of unit vectors):
  the mean cosine to many liked items is linear, so it costs one (n, 9) @ (9,) product even for
  a million items - no neighbour lists needed at serving time;
* :class:`ContentIVF`, an inverted file over the same vectors, shortlists candidates when the
  catalog is too big for a full pass per request.

Content is what ranks items nobody has played yet (cold start): it needs no interactions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from madhur_gql.recommender.features import feature_stats, standardise


@dataclass(slots=True)
class ContentIndex:
    """Unit-length standardised feature rows plus the stats that produced them."""

    vectors: np.ndarray  # (n, d) float32, unit rows (zero rows for items without features)
    mean: np.ndarray
    std: np.ndarray
    present: np.ndarray  # (n,) bool, item has features

    @classmethod
    def build(cls, raw: np.ndarray) -> ContentIndex:
        """Standardise raw features (NaN rows mean "no features")."""
        raw = np.asarray(raw, dtype=np.float32)
        present = ~np.isnan(raw).all(axis=1) if raw.size else np.zeros(raw.shape[0], dtype=bool)
        mean, std = feature_stats(raw[present] if present.any() else raw)
        vectors = standardise(raw, mean, std)
        vectors[~present] = 0.0
        return cls(vectors, mean, std, present)

    def extend(self, raw: np.ndarray) -> None:
        """Append items using the existing stats (no re-standardisation of old rows)."""
        raw = np.asarray(raw, dtype=np.float32)
        present = ~np.isnan(raw).all(axis=1)
        vec = standardise(raw, self.mean, self.std)
        vec[~present] = 0.0
        self.vectors = np.vstack([self.vectors, vec]).astype(np.float32)
        self.present = np.concatenate([self.present, present])

    def replace(self, rows: np.ndarray, raw: np.ndarray) -> None:
        """Overwrite the vectors of existing items."""
        raw = np.asarray(raw, dtype=np.float32)
        vec = standardise(raw, self.mean, self.std)
        present = ~np.isnan(raw).all(axis=1)
        vec[~present] = 0.0
        self.vectors[rows] = vec
        self.present[rows] = present

    def profile(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Weighted mean of the items' unit vectors (negative weights push away)."""
        if items.size == 0:
            return np.zeros(self.vectors.shape[1], dtype=np.float32)
        w = np.asarray(weights, dtype=np.float32)
        total = float(np.abs(w).sum()) or 1.0
        return (w @ self.vectors[items]) / total

    def score_profile(self, profile: np.ndarray) -> np.ndarray:
        """Cosine-like score of every item to a profile, float32 in -1..1."""
        return self.vectors @ profile.astype(np.float32)

    def nbytes(self) -> int:
        """Memory held by the index arrays."""
        return int(self.vectors.nbytes + self.present.nbytes + self.mean.nbytes + self.std.nbytes)


@dataclass(slots=True)
class ContentIVF:
    """Inverted-file index over unit content vectors for catalogs too big for a full pass.

    k-means (a few Lloyd iterations on a sample) splits items into lists; a query scores the
    centroids, probes the best ``nprobe`` lists and ranks only their members exactly. Used by
    the engine above ``EngineConfig.dense_limit`` items so a request never touches every song.
    """

    centroids: np.ndarray  # (L, d) float32, unit rows
    labels: np.ndarray  # (n,) int32 list of each item
    order: np.ndarray  # (n,) int64 item indices grouped by list
    offsets: np.ndarray  # (L + 1,) int64 start of each list in ``order``

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        n_lists: int,
        *,
        seed: int = 0,
        sample: int = 50_000,
        iters: int = 8,
        block: int = 65_536,
    ) -> ContentIVF:
        """Cluster a sample, then assign every item to its nearest (max-cosine) centroid."""
        rng = np.random.default_rng(seed)
        n = vectors.shape[0]
        n_lists = max(1, min(n_lists, n))
        pts = vectors[rng.choice(n, size=min(sample, n), replace=False)]
        cent = pts[rng.choice(pts.shape[0], size=n_lists, replace=False)].copy()
        for _ in range(iters):
            assign = np.argmax(pts @ cent.T, axis=1)
            sums = np.zeros_like(cent)
            np.add.at(sums, assign, pts)
            counts = np.bincount(assign, minlength=n_lists)
            empty = counts == 0
            sums[empty] = pts[rng.choice(pts.shape[0], size=int(empty.sum()))]
            cent = _unit_rows(sums)
        labels = np.empty(n, dtype=np.int32)
        for start in range(0, n, block):
            labels[start : start + block] = np.argmax(vectors[start : start + block] @ cent.T, 1)
        ivf = cls(cent.astype(np.float32), labels, np.zeros(0, np.int64), np.zeros(0, np.int64))
        ivf._reindex()
        return ivf

    def _reindex(self) -> None:
        self.order = np.argsort(self.labels, kind="stable").astype(np.int64)
        self.offsets = np.searchsorted(
            self.labels[self.order], np.arange(self.centroids.shape[0] + 1)
        ).astype(np.int64)

    def assign(self, vectors: np.ndarray) -> np.ndarray:
        """Nearest list of each vector."""
        return np.argmax(vectors @ self.centroids.T, axis=1).astype(np.int32)

    def extend(self, vectors: np.ndarray) -> None:
        """Add items (appended at the end of the catalog) to their nearest lists."""
        self.labels = np.concatenate([self.labels, self.assign(vectors)])
        self._reindex()

    def update(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Move changed items to the lists their new vectors belong to."""
        self.labels[rows] = self.assign(vectors)
        self._reindex()

    def search(self, vectors: np.ndarray, query: np.ndarray, m: int, nprobe: int) -> np.ndarray:
        """Indices of up to m items with the highest cosine to ``query`` in the probed lists."""
        nprobe = min(nprobe, self.centroids.shape[0])
        best = np.argpartition(-(self.centroids @ query), nprobe - 1)[:nprobe]
        members = np.concatenate([self.order[self.offsets[c] : self.offsets[c + 1]] for c in best])
        if members.size <= m:
            return members
        s = vectors[members] @ query
        return members[np.argpartition(-s, m - 1)[:m]]

    def nbytes(self) -> int:
        """Memory held by the index."""
        return int(
            self.centroids.nbytes + self.labels.nbytes + self.order.nbytes + self.offsets.nbytes
        )


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32)
