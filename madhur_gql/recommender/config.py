"""The served engine's tunables, in one place (what ``EngineConfig()`` means is the product)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Tunables; defaults chosen on the Last.fm dev split and synthetic checks."""

    neighbours: int = 100  # RP3beta neighbours kept per item
    # ... above ``dense_limit`` items: the graph was most of the engine's memory (8 bytes a
    # link: 760 MiB at 1M songs and 100 neighbours, 190 MiB at 25), and a request there reads
    # only its history's rows (25 x up to ``history_cap`` items still reach 5,000 candidates)
    large_neighbours: int = 25
    # established listeners (or playlists) holding both songs before a CF link is shown as a
    # reason or counted by similarSongs: a dozen fresh accounts cannot make one
    min_support: int = 3
    rp3_alpha: float = 0.8
    rp3_beta: float = 0.25
    ease_items: int = 3000  # EASE runs on at most this many items with the most evidence
    ease_min_evidence: int = 2  # ... each in at least this many users/groups
    ease_keep: int = 200  # EASE neighbours kept per item (pruned to a sparse graph)
    ease_l2_ratio: float = 9.0  # EASE l2 = ratio * mean squared-weight mass of modelled items
    factors: int = 128  # ALS rank (implicit, bm25-weighted evidence); 0 turns the model off
    factor_reg_ratio: float = 1.3  # ALS regularization = ratio * mean bm25 mass of an item
    factor_iterations: int = 30
    large_factors: int = 32  # ... above ``dense_limit`` items (bounded build)
    large_factor_iterations: int = 8
    factor_seed: int = 42
    factor_min_users: int = 100  # fewer listener histories at build: no factor model
    bm25_k1: float = 100.0
    bm25_b: float = 0.8
    build_threads: int = 2
    ease_weight: float = 0.25  # accuracy blend: factors + ease_weight * EASE
    rp3_weight: float = 0.5  # broad blend: (factors + rp3_weight * RP3beta) debiased
    debias_gamma: float = 0.2  # broad blend divided by (evidence + 1) ** gamma
    graph_debias_gamma: float = 0.3  # ... the graphs' sum, when there is no factor model
    broad_tail: int = 5  # the last this many picks of a list are ranked by the broad blend

    half_life_days: float = 90.0  # time decay of a user's signals
    recent_days: float = 30.0  # played/liked within this window -> not recommended again
    content_min: float = 0.05  # content weight for items with plenty of CF evidence
    content_max: float = 0.6  # content weight for items with no CF evidence
    evidence_half: float = 5.0  # users/groups at which the content weight is halfway
    mood_weight: float = 0.5  # share of the final score taken by the mood match
    mood_keep: float = 0.3  # with a mood, only the best-matching share of items is eligible
    history_cap: int = 200  # most-weighted history items used per request
    pool: int = 200  # candidates handed to the MMR re-rank (at least 10 * k)
    dense_limit: int = 200_000  # above this many items requests score candidates only
    content_candidates: int = 2000  # IVF content shortlist per request (large catalogs)
    ivf_probe: int = 16  # IVF lists probed per query
