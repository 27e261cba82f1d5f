"""Explanations: which of the taste's items stand behind each pick, by which signal, and what
kind of evidence links them (``Basis``).

The engine only names evidence (item ids, a ``Source`` and a ``Basis``); turning that into
words is the service layer's job (``services/recommendations/reasons.py``). A collaborative
link is named only when playlists or listeners really hold both songs (``LinkSources``), and
a sound-alike is said to be one the caller liked only when they like it now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from madhur_gql.recommender.graphs import ItemGraphs
from madhur_gql.recommender.items import ItemTable
from madhur_gql.recommender.provenance import LinkSources
from madhur_gql.recommender.values import Basis

NAMED = 2  # evidence songs named per pick


@dataclass(frozen=True, slots=True)
class Because:
    """The songs behind one pick by one signal (strongest first) and what links them."""

    ids: tuple[str, ...] = ()
    basis: Basis | None = None


Evidence = dict[tuple[int, bool], Because]


def evidence_for(
    items: ItemTable,
    graphs: ItemGraphs,
    links: LinkSources,
    chosen: Sequence[int],
    idx: np.ndarray,
    w: np.ndarray,
    liked: np.ndarray | None,
) -> Evidence:
    """For each pick row and signal (True: CF, False: content), the <= ``NAMED`` positive taste
    items contributing most, with their basis. ``liked``: the rows the caller likes now (None
    for seeds, whose sound-alikes claim nothing about the caller).

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
    # collaborative: the strongest few contributors, kept only where a row holds both songs
    depth = min(idx.size, 2 * NAMED)
    order = np.argsort(-cf, axis=0, kind="stable")[:depth]
    pair_taste, pair_pick, pair_at = [], [], []
    for c in range(picks.size):
        for o in order[:, c].tolist():
            if cf[o, c] > 0:
                pair_taste.append(int(idx[o]))
                pair_pick.append(int(picks[c]))
                pair_at.append(c)
    bases = links.basis(np.asarray(pair_taste, np.int64), np.asarray(pair_pick, np.int64))
    named: dict[int, list[tuple[str, Basis]]] = {}
    for c, t, basis in zip(pair_at, pair_taste, bases, strict=True):
        if basis is not None and len(named.setdefault(c, [])) < NAMED:
            named[c].append((items.ids[t], basis))
    liked_set = set(liked.tolist()) if liked is not None else None
    order = np.argsort(-content, axis=0, kind="stable")[:NAMED]
    for c, j in enumerate(picks.tolist()):
        found = named.get(c, [])
        out[(j, True)] = Because(tuple(i for i, _ in found), found[0][1] if found else None)
        rows = [int(idx[o]) for o in order[:, c] if content[o, c] > 0]
        sound: Basis | None = None
        if rows:
            sound = (
                Basis.SOUND
                if liked_set is None
                else Basis.LIKED
                if rows[0] in liked_set
                else Basis.PLAYED
            )
        out[(j, False)] = Because(tuple(items.ids[r] for r in rows), sound)
    return out
