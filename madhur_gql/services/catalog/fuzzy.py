"""Artist names one or two letters off: what search falls back to when nothing matches.

"ed sheran", "beyonse", "wekend" or "sheeren" find the artist. Names and their words are
compared by edit distance with transpositions (optimal string alignment: a letter missing,
extra, wrong or swapped is one edit; rapidfuzz, in C++: ~10,000 names in about a millisecond),
and only when the exact search found nothing, so a correct term is never diluted by near misses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

MIN_LENGTH = 4  # shorter terms are too close to too many names


def max_edits(term: str) -> int:
    """Letters a term may be off by: one up to 7 letters, two from 8."""
    if len(term) < MIN_LENGTH:
        return 0
    return 1 if len(term) < 8 else 2


class ArtistMatcher:
    """Search keys of artist names, and of their words, to the names that hold them."""

    def __init__(self, names: Iterable[str]) -> None:
        holders: dict[str, set[str]] = defaultdict(set)
        for name in names:
            holders[name].add(name)
            for word in name.split():
                if len(word) >= MIN_LENGTH:
                    holders[word].add(name)
        self._keys = list(holders)
        # tuples, not the sets they were gathered in: most keys have one holder, and a set
        # of one is 216 bytes (27 MiB at 125k artists)
        self._holders = {key: tuple(names) for key, names in holders.items()}

    def near(self, term: str) -> set[str]:
        """Artist names (search keys) whose name or one of whose words is within reach."""
        edits = max_edits(term)
        if not edits:
            return set()
        found = process.extract(
            term, self._keys, scorer=OSA.distance, score_cutoff=edits, limit=None
        )
        return {name for key, _, _ in found for name in self._holders[key]}
