"""An in-memory index of the catalog for browsing: search, filters, orderings, counts.

MongoDB stays the source of truth; this index answers "which song ids, in which order"
in microseconds, and the page's documents are then fetched by `_id`. It is built from the
same snapshot as the recommender and kept current by the writes that change songs.
Edits mark it dirty; the numpy columns are rebuilt lazily on the next query.

Search shows each recording once (domain/recordings.py): a hit on any of its versions (a radio
edit, a remaster) is the recording's canonical version, the most popular; the others are that
song's ``versions``. Browsing without a search term lists every release.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from cachetools import LRUCache

from madhur_gql.domain.recordings import canonical_versions, recording_digest, recording_key
from madhur_gql.domain.song_fields import FILTER_FEATURES, search_key
from madhur_gql.services.catalog.fuzzy import ArtistMatcher
from madhur_gql.services.catalog.songs import Range, SongFilter
from madhur_gql.services.catalog.trending import TrendingScores

NO_SONGS = np.zeros(0, dtype=np.int64)
SEARCH_CACHE_SIZE = 256  # distinct search terms whose matches are kept (per columns build)
# Searches' ordered matches (no filter), by term and order: a page of a known search took
# 0.1 ms of mask arithmetic over every song (a tenth of a songs request's CPU). Bounded by
# the bytes the positions take, not by count: one common term at 1M songs is megabytes.
SEARCH_RESULTS_BYTES = 8 * 1024 * 1024


class SongOrder(StrEnum):
    POPULARITY = "POPULARITY"  # Spotify popularity at import time
    LIKES = "LIKES"  # most liked on Madhur
    TRENDING = "TRENDING"  # plays on Madhur, recent ones weighing more
    TITLE = "TITLE"
    RELEASE_DATE = "RELEASE_DATE"  # newest first


FEATURES = struct.Struct(f"<{len(FILTER_FEATURES)}f")  # a song's filter features, packed


@dataclass(slots=True)
class IndexedSong:
    """What the index needs of one song. Values many songs share (artists, dates, genre
    lists) are one object for all of them, and the features are 20 packed bytes, not a tuple
    of floats: a million songs' worth of these is a few hundred MiB, not most of a GiB."""

    id: str
    title_lc: str
    artist_lc: str
    title_key: str  # search_key: what search compares (title_lc itself when the same)
    artist_key: str
    genres: tuple[str, ...]
    features: bytes  # FEATURES: float32 in FILTER_FEATURES order
    popularity: int
    release_date: str
    artist_id: str
    language: str  # "" when unknown
    country: str
    # what a song's versions share: domain.recordings.recording_key as its 64-bit digest
    recording: int

    @classmethod
    def from_document(
        cls, doc: Mapping[str, Any], shared: dict[Any, Any] | None = None
    ) -> IndexedSong:
        """`shared` holds one copy of each repeated value (the index keeps one for all)."""
        pool = shared if shared is not None else {}

        def one(value: Any) -> Any:
            return pool.setdefault(value, value)

        artist: str = doc["artist"]
        artist_key = pool.get(("search key", artist))
        if artist_key is None:
            artist_key = pool[("search key", artist)] = one(search_key(artist))
        title_lc = doc.get("title_lc") or doc["title"].lower()
        title_key = search_key(doc["title"])
        audio = doc["audio"]
        return cls(
            id=str(doc["_id"]),
            title_lc=title_lc,
            artist_lc=one(doc.get("artist_lc") or artist.lower()),
            title_key=title_lc if title_key == title_lc else title_key,
            artist_key=artist_key,
            genres=one(tuple(doc.get("genres") or ())),
            features=FEATURES.pack(*(float(audio[name]) for name in FILTER_FEATURES)),
            popularity=int(doc.get("popularity") or 0),
            release_date=one(doc.get("release_date") or ""),
            artist_id=one(str(doc.get("artist_id") or "")),
            language=one(doc.get("language") or ""),
            country=one(doc.get("country") or ""),
            recording=recording_digest(recording_key(doc["title"], doc["artist"])),
        )


@dataclass(slots=True)
class _Columns:
    ids: list[str]
    titles: list[str]  # search keys
    artists: list[str]
    search: _SearchText  # the same keys, as one string
    artist_positions: dict[str, np.ndarray]  # artist search key -> song positions
    artist_matcher: ArtistMatcher
    features: np.ndarray  # (n, len(FILTER_FEATURES)) float32
    popularity: np.ndarray
    # ASCII bytes (b"" when unknown), not numpy str: 4 bytes a character, 40 MiB of
    # release dates alone at a million songs; positions below are int32 for the same reason
    release_dates: np.ndarray  # ISO dates
    languages: np.ndarray  # ISO 639-1 codes
    countries: np.ndarray  # ISO 3166-1 alpha-2 codes
    genre_masks: dict[str, np.ndarray]
    # song positions by artist id and by lower-cased name (positions, not a mask of every
    # song per artist: that was artists x songs bytes, most of a GiB at 1M songs)
    artist_songs: dict[str, np.ndarray]
    orders: dict[SongOrder, np.ndarray]  # positions, best first (static orders only)
    genre_counts: list[tuple[str, int]]  # largest first
    artist_ranking: list[tuple[str, str]]  # (artist id, name's search key), most songs first
    canonical: np.ndarray  # position -> position of its recording's canonical version
    versions: dict[str, list[str]]  # song id -> the other versions' ids, most popular first
    # TRENDING and LIKES orders, kept until their counters move: without it every such page
    # (and every alias of it) sorted the whole catalog again (60 ms at 28k songs).
    live_orders: dict[SongOrder, tuple[int, np.ndarray]] = field(default_factory=dict)
    # (search key, order, the order's version) -> the matching positions in that order
    searches: LRUCache[tuple[str, SongOrder, int], np.ndarray] = field(
        default_factory=lambda: LRUCache(
            maxsize=SEARCH_RESULTS_BYTES, getsizeof=lambda positions: max(positions.nbytes, 1)
        )
    )


@dataclass
class CatalogIndex:
    songs: dict[str, IndexedSong] = field(default_factory=dict)
    likes: dict[str, int] = field(default_factory=dict)  # live counters: no rebuild needed
    plays: dict[str, int] = field(default_factory=dict)
    trending: TrendingScores = field(default_factory=TrendingScores)
    _columns: _Columns | None = None
    _shared: dict[Any, Any] = field(default_factory=dict)  # one copy of each repeated value
    _likes_version: int = 0

    @classmethod
    def from_documents(cls, docs: Iterable[Mapping[str, Any]]) -> CatalogIndex:
        index = cls()
        for doc in docs:
            index._store(doc)
        return index

    def replace_all(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Every song afresh (a saved read model that could not be brought up to date)."""
        self.songs.clear()
        self.likes.clear()
        self.plays.clear()
        for doc in docs:
            self._store(doc)
        self._columns = None

    def _store(self, doc: Mapping[str, Any]) -> None:
        song = IndexedSong.from_document(doc, self._shared)
        self.songs[song.id] = song
        self.set_counters(song.id, likes=doc.get("like_count"), plays=doc.get("play_count"))

    def set_counters(
        self, song_id: str, *, likes: int | None = None, plays: int | None = None
    ) -> None:
        """Absolute values: applying one update twice (own write, change stream) is harmless.

        Zero is kept as no entry (most songs have no likes or plays here)."""
        if likes is not None:
            self._likes_version += 1
        for counts, value in ((self.likes, likes), (self.plays, plays)):
            if value:
                counts[song_id] = int(value)
            elif value is not None:
                counts.pop(song_id, None)

    def __len__(self) -> int:
        return len(self.songs)

    def __contains__(self, song_id: object) -> bool:
        return song_id in self.songs

    def upsert(self, doc: Mapping[str, Any]) -> None:
        self._store(doc)
        self._columns = None

    def remove(self, song_id: str) -> None:
        self.likes.pop(song_id, None)
        self.plays.pop(song_id, None)
        self.trending.remove(song_id)
        if self.songs.pop(song_id, None) is not None:
            self._columns = None

    def artists(self, search: str | None, offset: int, limit: int) -> tuple[list[str], int]:
        """Artist ids with songs in the catalog, most songs first, and how many match."""
        columns = self._materialise()
        ranking = columns.artist_ranking
        matching = [artist_id for artist_id, name in ranking if not search or search in name]
        if search and not matching:
            near = columns.artist_matcher.near(search)
            matching = [artist_id for artist_id, name in ranking if name in near]
        return matching[offset : offset + limit], len(matching)

    def artist_song_count(self, artist_id: str) -> int:
        positions = self._materialise().artist_songs.get(artist_id)
        return int(positions.size) if positions is not None else 0

    def genre_counts(self) -> list[tuple[str, int]]:
        return self._materialise().genre_counts

    def versions(self, song_id: str) -> list[str]:
        """The other releases of the song's recording, most popular first."""
        return self._materialise().versions.get(song_id, [])

    def query(
        self,
        *,
        search: str | None = None,
        song_filter: SongFilter | None = None,
        order: SongOrder = SongOrder.POPULARITY,
        offset: int = 0,
        limit: int = 20,
        once_per_recording: bool = False,
    ) -> tuple[list[str], int]:
        """One page of song ids in `order`, and how many songs match in all.

        `search` (a search key) matches titles and artists; when nothing does, the songs of
        artists whose name is a letter or two off (see fuzzy.py). A search, or a listing
        `once_per_recording`, holds each recording once (its canonical version)."""
        columns = self._materialise()
        key = None
        if search and song_filter is None:  # what it matches depends on the term and order only
            key = (search, order, self._order_version(order))
            known = columns.searches.get(key)
            if known is not None:
                return [columns.ids[i] for i in known[offset : offset + limit]], int(known.size)
        n = len(columns.ids)
        mask = np.ones(n, dtype=bool)
        if song_filter is not None:
            mask &= self._filter_mask(columns, song_filter)
        if search:
            hits = np.flatnonzero(mask & columns.search.matching(search))
            if not hits.size:
                near = [columns.artist_positions[a] for a in columns.artist_matcher.near(search)]
                hits = np.concatenate(near) if near else hits
            mask &= _recordings_of(columns, hits)
        elif once_per_recording:
            mask &= _recordings_of(columns, np.flatnonzero(mask))
        ordered = self._order(columns, order)
        matching = ordered[mask[ordered]]
        if key is not None:
            matching.setflags(write=False)
            columns.searches[key] = matching
        page = matching[offset : offset + limit]
        return [columns.ids[i] for i in page], int(matching.size)

    def _order_version(self, order: SongOrder) -> int:
        """How many times the order's counters moved (0 for the orders that never move)."""
        if order is SongOrder.LIKES:
            return self._likes_version
        if order is SongOrder.TRENDING:
            return self.trending.version
        return 0

    def _order(self, columns: _Columns, order: SongOrder) -> np.ndarray:
        if order in columns.orders:
            return columns.orders[order]
        version = self._likes_version if order is SongOrder.LIKES else self.trending.version
        cached = columns.live_orders.get(order)
        if cached is not None and cached[0] == version:
            return cached[1]
        counts = self.likes if order is SongOrder.LIKES else self.trending.raw_scores()
        values = np.array([counts.get(i, 0) for i in columns.ids], dtype=np.float64)
        # Within equal counts, keep the popularity order (stable sort of the popularity order).
        by_popularity = columns.orders[SongOrder.POPULARITY]
        ordered = by_popularity[np.argsort(-values[by_popularity], kind="stable")]
        columns.live_orders[order] = (version, ordered)
        return ordered

    def _filter_mask(self, columns: _Columns, song_filter: SongFilter) -> np.ndarray:
        n = len(columns.ids)
        none = np.zeros(n, dtype=bool)
        mask = np.ones(n, dtype=bool)
        if song_filter.genre:
            mask &= columns.genre_masks.get(song_filter.genre, none)
        for artist in (song_filter.artist, song_filter.artist_id):
            if artist:
                of_artist = none.copy()
                of_artist[columns.artist_songs.get(artist, NO_SONGS)] = True
                mask &= of_artist
        if song_filter.released_after:
            mask &= columns.release_dates >= _ascii(song_filter.released_after)
        if song_filter.released_before:
            mask &= (columns.release_dates != b"") & (
                columns.release_dates <= _ascii(song_filter.released_before)
            )
        if song_filter.language:
            mask &= columns.languages == _ascii(song_filter.language)
        if song_filter.country:
            mask &= columns.countries == _ascii(song_filter.country)
        for name, bounds in song_filter.ranges.items():
            mask &= _range_mask(columns.features[:, FILTER_FEATURES.index(name)], bounds)
        return mask

    def _materialise(self) -> _Columns:
        if self._columns is not None:
            return self._columns
        songs = list(self.songs.values())
        n = len(songs)
        features = np.frombuffer(b"".join(s.features for s in songs), dtype="<f4").reshape(
            n, len(FILTER_FEATURES)
        )
        genre_masks: dict[str, np.ndarray] = {}
        artist_songs: dict[str, list[int]] = {}
        positions: dict[str, list[int]] = {}
        for i, song in enumerate(songs):
            positions.setdefault(song.artist_key, []).append(i)
            for genre in song.genres:
                genre_masks.setdefault(genre, np.zeros(n, dtype=bool))[i] = True
            artist_songs.setdefault(song.artist_lc, []).append(i)
            if song.artist_id and song.artist_id != song.artist_lc:
                artist_songs.setdefault(song.artist_id, []).append(i)
        ids = [s.id for s in songs]
        popularity = np.array([s.popularity for s in songs], dtype=np.int32)
        keys = [s.recording for s in songs]
        canonical = canonical_versions(keys, popularity.tolist(), ids)
        members: dict[int, list[int]] = {}
        for i, c in enumerate(canonical):
            members.setdefault(c, []).append(i)
        versions: dict[str, list[str]] = {}
        for group in members.values():
            if len(group) > 1:
                group.sort(key=lambda i: (-int(popularity[i]), ids[i]))
                for i in group:
                    versions[ids[i]] = [ids[j] for j in group if j != i]
        # Ties broken by id so that pages never overlap or skip.
        by_id = np.argsort(np.array(ids, dtype=object), kind="stable")
        orders = {
            SongOrder.POPULARITY: by_id[np.argsort(-popularity[by_id], kind="stable")].astype(
                np.int32
            ),
            SongOrder.TITLE: np.array(
                sorted(range(n), key=lambda i: (songs[i].title_lc, ids[i])), dtype=np.int32
            ),
            SongOrder.RELEASE_DATE: np.array(
                sorted(range(n), key=lambda i: (songs[i].release_date, ids[i]), reverse=True),
                dtype=np.int32,
            ),
        }
        self._columns = _Columns(
            ids=ids,
            titles=[s.title_key for s in songs],
            artists=[s.artist_key for s in songs],
            search=_SearchText([s.title_key for s in songs], [s.artist_key for s in songs]),
            artist_positions={k: np.array(v, dtype=np.int32) for k, v in positions.items()},
            artist_matcher=ArtistMatcher(positions),
            features=features,
            popularity=popularity,
            release_dates=_ascii_column([s.release_date for s in songs]),
            languages=_ascii_column([s.language for s in songs], "S2"),
            countries=_ascii_column([s.country for s in songs], "S2"),
            genre_masks=genre_masks,
            artist_songs={k: np.array(v, dtype=np.int32) for k, v in artist_songs.items()},
            orders=orders,
            genre_counts=sorted(
                ((genre, int(mask.sum())) for genre, mask in genre_masks.items()),
                key=lambda item: (-item[1], item[0]),
            ),
            artist_ranking=_artist_ranking(songs),
            canonical=np.asarray(canonical, dtype=np.int32).reshape(n),
            versions=versions,
        )
        return self._columns


class _SearchText:
    """Substring search over every title and artist at C speed, recent terms remembered.

    A loop of `term in title` over 28k songs took 50 ms a query. Here all rows are one string
    ("title\x1fartist\n" each): one regular-expression scan finds the matches and a binary
    search over the row offsets maps them to rows. A term holds neither separator, so it
    matches inside one field of one row, as `term in title or term in artist` would.
    """

    def __init__(self, titles: list[str], artists: list[str]) -> None:
        rows = [f"{t}\x1f{a}\n" for t, a in zip(titles, artists, strict=True)]
        self._text = "".join(rows)
        self._starts = np.cumsum([0, *map(len, rows)])[:-1].astype(np.int64)
        self._n = len(rows)
        self._recent: LRUCache[str, np.ndarray] = LRUCache(maxsize=SEARCH_CACHE_SIZE)

    def matching(self, term: str) -> np.ndarray:
        """A read-only mask of the rows whose title or artist contains `term`."""
        cached = self._recent.get(term)
        if cached is not None:
            return cached
        mask = np.zeros(self._n, dtype=bool)
        clean = term.replace("\x1f", "").replace("\n", "")
        if clean:
            offsets = [m.start() for m in re.finditer(re.escape(clean), self._text)]
            if offsets:
                mask[np.searchsorted(self._starts, offsets, side="right") - 1] = True
        mask.setflags(write=False)
        self._recent[term] = mask
        return mask


def _artist_ranking(songs: list[IndexedSong]) -> list[tuple[str, str]]:
    counts = Counter(song.artist_id for song in songs if song.artist_id)
    names = {song.artist_id: song.artist_key for song in songs if song.artist_id}
    ranked = sorted(counts.items(), key=lambda item: (-item[1], names[item[0]], item[0]))
    return [(artist_id, names[artist_id]) for artist_id, _ in ranked]


def _ascii(value: str) -> bytes:
    """A filter's value as the bytes columns hold (a non-ASCII value matches nothing)."""
    return value.encode("ascii", "replace")


def _ascii_column(values: list[str], dtype: str = "S") -> np.ndarray:
    encoded = [v.encode("ascii", "replace") for v in values]
    return np.array(encoded, dtype=dtype) if encoded else np.zeros(0, dtype=dtype)


def _recordings_of(columns: _Columns, hits: np.ndarray) -> np.ndarray:
    """The canonical versions of the hits' recordings, as a mask: one entry a recording."""
    found = np.zeros(len(columns.ids), dtype=bool)
    found[columns.canonical[hits]] = True
    return found


def _range_mask(values: np.ndarray, bounds: Range) -> np.ndarray:
    mask = np.ones(values.shape[0], dtype=bool)
    if bounds.min is not None:
        mask &= values >= bounds.min
    if bounds.max is not None:
        mask &= values <= bounds.max
    return mask
