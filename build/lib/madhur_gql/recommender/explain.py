"""Explanations: which of the taste's items stand behind each pick, and by which signal.

The engine only names evidence (item ids and a ``Source``); turning that into words is the
service layer's job (``services/recommendations/reasons.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from madhur_gql.recommender.graphs import ItemGraphs
from madhur_gql.recommender.items import ItemTable

Evidence = dict[tuple[int, bool], tuple[str, ...]]


def evidence_for(
    items: ItemTable, graphs: ItemGraphs, chosen: Sequence[int], idx: np.ndarray, w: np.ndarray
) -> Evidence:
    """For each pick row and signal (True: CF, False: content), the <= 2 positive taste items
    contributing most (ids, strongest first).

    One taste x picks block per graph keeps this a handful of array ops per request.
    """
    pos = w > 0
    idx, w = idx[pos], w[pos].astype(np.float64)
    picks = np.asarray(chosen, dtype=np.int64)
    out: Evidence = {}
    if picks.size == 0:
        return out
    cf = graphs.contributions(idx, w, picks)
    vec = items.content.vectors
    content = (vec[idx] @ vec[picks].T) * w[:, None]
    for signal, contrib in ((True, cf), (False, content)):
        order = np.argsort(-contrib, axis=0, kind="stable")[:2]
        for c, j in enumerate(picks):
            out[(int(j), signal)] = tuple(
                items.ids[idx[o]] for o in order[:, c] if contrib[o, c] > 0
            )
    return out
