"""Artists like an artist: the item graphs between their songs, and how their songs sound.

Per candidate artist: the CF mass flowing from the seed artist's songs into theirs (every item
graph, summed, divided by the square root of their song count so big catalogues do not win by
size), max-normalised, blended half and half with the cosine between the two artists' mean
audio vectors. Computed per request from the item table (two bincounts and a few graph rows).
"""

from __future__ import annotations

import numpy as np

from madhur_gql.recommender.graphs import ItemGraphs
from madhur_gql.recommender.items import ItemTable

CF_SHARE = 0.5


def artist_similarity(items: ItemTable, graphs: ItemGraphs, code: int) -> np.ndarray:
    """Similarity (0..1) of every artist code to artist ``code``; the artist itself and
    artists without live songs get -1."""
    codes = items.artist_codes
    n_artists = int(codes.max()) + 1 if codes.size else 0
    alive = items.alive
    live_codes = codes[alive]
    counts: np.ndarray = np.bincount(live_codes, minlength=n_artists).astype(np.float64)
    own = np.flatnonzero((codes == code) & alive)
    out = np.full(n_artists, -1.0)
    if own.size == 0:
        return out
    cf = np.zeros(n_artists)
    for graph in graphs.matrices:
        flow = np.asarray(graph[own].sum(axis=0)).ravel()
        flow = np.maximum(flow, 0.0) * alive
        cf += np.bincount(codes, weights=flow, minlength=n_artists)
    cf = np.divide(cf, np.sqrt(counts), out=np.zeros(n_artists), where=counts > 0)
    cf[code] = 0.0
    if cf.max() > 0:
        cf /= cf.max()
    vec = items.content.vectors[alive]
    centroids: np.ndarray = np.stack(
        [
            np.bincount(live_codes, weights=vec[:, d], minlength=n_artists)
            for d in range(vec.shape[1])
        ],
        axis=1,
    )
    norms = np.linalg.norm(centroids, axis=1)
    norms[norms == 0] = 1.0
    centroids /= norms[:, None]
    sound = np.maximum(centroids @ centroids[code], 0.0)
    out = CF_SHARE * cf + (1.0 - CF_SHARE) * sound
    out[counts == 0] = -1.0
    out[code] = -1.0
    return out


def similar_artists(items: ItemTable, graphs: ItemGraphs, code: int, k: int) -> list[int]:
    """Codes of the ``k`` most similar artists, best first."""
    sims = artist_similarity(items, graphs, code)
    order = np.argsort(-sims, kind="stable")
    return [int(c) for c in order[:k] if sims[c] >= 0]
