"""The words a listener reads under a pick, from the engine's evidence (source + songs)."""

from __future__ import annotations

from madhur_gql.documents import Song
from madhur_gql.recommender.mood import describe
from madhur_gql.recommender.values import Pick, Source

FAVOURITE_GENRE = "From your favourite genre: {genre}"
GENERIC_REASON = "Picked for you from the songs you play"  # when no evidence can be named


def reasons_for(pick: Pick, because: list[Song], song: Song) -> list[str]:
    """Reasons for one pick; ``because`` are the evidence songs still in the catalog."""
    reasons: list[str] = []
    names = [f"{s.title} by {s.artist}" for s in because]
    if pick.source is Source.COLLABORATIVE and names:
        reasons.append(f"Listeners who liked {names[0]} also love this")
    elif pick.source is Source.CONTENT and names:
        reasons.append(f"Because you liked {names[0]}")
    elif pick.source is Source.SEED and names:
        reasons.append(f"Similar to {names[0]}")
    elif pick.source is Source.POPULAR:
        genre = song.genres[0] if song.genres else None
        reasons.append(f"Popular in {genre}" if genre else "Popular on Madhur right now")
    if len(names) > 1 and pick.source is not Source.POPULAR:
        reasons.append(f"Also close to {names[1]}")
    if pick.mood is not None:
        reasons.append(describe(pick.mood))
    if not reasons:
        reasons.append(GENERIC_REASON)
    return reasons
