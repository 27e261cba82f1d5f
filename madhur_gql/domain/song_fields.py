"""The one table of a song's fields: their bounds, and the rules that clean what people type.

The importer, admin edits, the documents, the GraphQL inputs and the recommender's feature
list all read it, so a value one of them accepts the others accept too. Bounds are Spotify's
real ranges with room to spare: the demo catalog (32,833 rows) has tempo 0..239 BPM and
loudness -46..1.3 dB, so tempo is above 0 and at most 250, loudness -60..5 dB.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NumberField:
    """A numeric field's bounds; `above` makes the lower bound exclusive (tempo > 0)."""

    name: str
    low: float
    high: float
    integer: bool = False
    above: bool = False
    unit: str = ""
    missing: float | None = None  # what a data file's blank means; None: the value is required

    def accepts(self, value: float) -> bool:
        low_ok = value > self.low if self.above else value >= self.low
        return low_ok and value <= self.high and (not self.integer or float(value).is_integer())


def _unit(name: str, missing: float | None = None) -> NumberField:
    return NumberField(name, 0.0, 1.0, missing=missing)


# In the order of AudioFeatures (documents/song.py) and of the GraphQL AudioFeatures type.
AUDIO_FIELDS: tuple[NumberField, ...] = (
    _unit("danceability"),
    _unit("energy"),
    _unit("valence"),
    NumberField("tempo", 0.0, 250.0, above=True, unit="BPM"),
    _unit("acousticness"),
    _unit("instrumentalness"),
    _unit("speechiness"),
    _unit("liveness"),
    NumberField("loudness", -60.0, 5.0, unit="dB", missing=-60.0),
    NumberField("key", -1, 11, integer=True, missing=-1),  # pitch class, -1 unknown
    NumberField("mode", 0, 1, integer=True, missing=1),  # 1 major, 0 minor
)
AUDIO = {field.name: field for field in AUDIO_FIELDS}
UNIT_FEATURES = tuple(f.name for f in AUDIO_FIELDS if (f.low, f.high) == (0.0, 1.0))
# Continuous features, table order: what similarity and moods are computed on.
CONTINUOUS_FEATURES = tuple(f.name for f in AUDIO_FIELDS if not f.integer)
# Features a song list can be filtered on by range (SongFilter, GraphQL SongFilter input).
FILTER_FEATURES = ("energy", "valence", "danceability", "acousticness", "tempo")

POPULARITY = NumberField("popularity", 0, 100, integer=True, missing=0)
DURATION_MS = NumberField("duration_ms", 0, 24 * 3600 * 1000, integer=True, missing=0)

MAX_TITLE = 300
MAX_ARTIST = 200
MAX_ALBUM = 300
MAX_GENRES = 20
MAX_GENRE = 50
TRACK_ID = r"^[0-9A-Za-z]{1,64}$"  # what an admin may type; imports keep their source's ids
# An ISO date, possibly partial: "2019", "2019-06" or "2019-06-14".
RELEASE_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
_RELEASE_DATE = re.compile(RELEASE_DATE)


def is_release_date(text: str) -> bool:
    return _RELEASE_DATE.match(text) is not None


def name_key(text: str) -> str:
    """How names and genres compare: runs of white space are one space, case does not count.

    Artist keys, genres (a song's and a listener's favourites), artist filters and search
    terms all go through it, so "Hip  Hop" and "hip hop" are one genre everywhere.
    """
    return " ".join(text.split()).lower()


_DIACRITICS = re.compile("[\u0300-\u036f]")


def search_key(text: str) -> str:
    """How search compares text, on both sides: `name_key`, case folded, and Latin accents
    dropped, so "beyonce", "Beyoncé" and "BEYONCÉ" are one. Only the combining diacritics
    block goes: marks that other scripts need to spell a word stay."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", _DIACRITICS.sub("", unicodedata.normalize("NFD", text)))
    return " ".join(text.split()).casefold()


def normalise_genres(genres: Iterable[str]) -> list[str]:
    """A song's genres: cleaned by `name_key`, blanks dropped, each once, sorted."""
    return sorted({key for genre in genres if (key := name_key(genre))})
