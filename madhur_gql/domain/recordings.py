"""One recording, however many releases carry it: the key that groups a song's versions.

A radio edit, a remaster, the single and the album release, a "feat." credit in the title: the
same recording under another title. Live takes, remixes, acoustic and instrumental versions
are other recordings and keep their own key. The key is the title without those version marks
(``search_key``-folded) and the primary artist (the first of a credit list), so the catalog's
search, the recommender and ``Song.versions`` group the same songs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Hashable, Iterable, Sequence

from madhur_gql.domain.song_fields import search_key

# Version marks: a bracketed or " - " suffix holding one of these is not part of the title.
_SAME_RECORDING = re.compile(
    r"remaster|radio edit|radio version|radio mix|single version|album version|single edit"
    r"|\bedit\b|\bmono\b|\bstereo\b|explicit|\bclean\b|\bfeat\b|\bfeat\.|\bft\.|featuring"
    r"|^with\s|bonus track|deluxe|original version|\bversion\b\s*$|\b(19|20)\d\d\b\s*$",
    re.IGNORECASE,
)
_OTHER_RECORDING = re.compile(
    r"\blive\b|remix|acoustic|instrumental|karaoke|cover|demo\b|unplugged|a cappella|acapella"
    r"|\bmix\b|rework|sped up|slowed|reprise",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"\s*[\(\[]([^\)\]]*)[\)\]]")
_DASH_SUFFIX = re.compile(r"\s+[-\u2013\u2014]\s+(.+)$")
_INLINE_FEAT = re.compile(r"\s+(?:feat\.?|ft\.?|featuring)\s+.*$", re.IGNORECASE)
_ARTIST_SPLIT = re.compile(
    r"\s*(?:,|&|\bfeat\.?|\bft\.?|\bfeaturing\b|\bwith\b|\bx\b|\band\b)\s*", re.IGNORECASE
)
_PUNCTUATION = re.compile(r"[^\w\s]")


def _is_version_mark(text: str) -> bool:
    return bool(_SAME_RECORDING.search(text)) and not _OTHER_RECORDING.search(text)


def recording_title(title: str) -> str:
    """The title without version marks: "Get Lucky - Radio Edit" and "Get Lucky (feat.
    Pharrell Williams)" are "get lucky"; "Get Lucky - Live" stays apart."""
    text = title
    while True:  # suffixes from the right: "Song (feat. X) - Remastered 2011"
        dash = _DASH_SUFFIX.search(text)
        if dash and _is_version_mark(dash.group(1)):
            text = text[: dash.start()]
            continue
        brackets = list(_BRACKETED.finditer(text))
        last = brackets[-1] if brackets else None
        if last is not None and last.end() == len(text) and _is_version_mark(last.group(1)):
            text = text[: last.start()]
            continue
        break
    text = _INLINE_FEAT.sub("", text)
    key = " ".join(_PUNCTUATION.sub(" ", search_key(text)).split())
    return key or search_key(title)


def primary_artist(artist: str) -> str:
    """The first artist of a credit ("Daft Punk, Pharrell Williams" -> "daft punk")."""
    first = _ARTIST_SPLIT.split(artist.strip(), maxsplit=1)[0]
    return search_key(first or artist)


def recording_key(title: str, artist: str) -> str:
    """What the versions of one recording share."""
    return f"{recording_title(title)}\x1f{primary_artist(artist)}"


def recording_digest(key: str) -> int:
    """A recording key as a stable signed 64-bit number (``hash`` differs between processes):
    what the in-memory indexes keep per song instead of the key's string (~75 bytes a song).
    Two keys sharing one (odds ~1e-7 among a million songs) would group two recordings."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def canonical_versions(
    keys: Sequence[Hashable], popularity: Sequence[float], ids: Sequence[str]
) -> list[int]:
    """For each song, the position of its recording's canonical version: the most popular,
    then the smallest id (so every process picks the same one)."""
    best: dict[Hashable, int] = {}
    for i, key in enumerate(keys):
        j = best.get(key)
        if j is None or (popularity[i], ids[j]) > (popularity[j], ids[i]):
            best[key] = i
    return [best[key] for key in keys]


def version_groups(keys: Iterable[str]) -> dict[str, list[int]]:
    """Positions of the songs sharing each key (only keys with two or more)."""
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return {k: v for k, v in groups.items() if len(v) > 1}
