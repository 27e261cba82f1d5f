"""An in-memory index of the catalog for browsing: search, filters, orderings, counts.

MongoDB stays the source of truth; this index answers "which song ids, in which order"
in microseconds, and the page's documents are then fetched by `_id`. It is built from the
same snapshot as the recommender and kept current by the writes that change songs.
Edits mark it dirty; the numpy columns are rebuilt lazily on the next query.

What it holds of each song is columns by row (columns.py), as the song store does, not an
object per song (~400 bytes a song, 394 MiB at a million). A removed song's row is left
unused: the columns built for queries hold only the songs held now, by position.

Search shows each recording once (domain/recordings.py): a hit on any of its versions (a radio
edit, a remaster) is the recording's canonical version, the most popular; the others are that
song's ``versions``. Browsing without a search term lists every release.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from cachetools import LRUCache

from madhur_gql.domain.recordings import recording_digest, recording_key
from madhur_gql.domain.song_fields import FILTER_FEATURES, search_key
from madhur_gql.services.catalog.columns import KEY_BYTES, Keys, Shared, Text, put
from madhur_gql.services.catalog.fuzzy import ArtistMatcher
from madhur_gql.services.catalog.songs import Range, SongFilter
from madhur_gql.services.catalog.trending import TrendingScores

NO_SONGS = np.zeros(0, dtype=np.int32)
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


@dataclass(slots=True)
class _Coded:
    """A shared column at each position: its code, and the values the codes stand for."""

    codes: np.ndarray
    values: Sequence[Any]

    def where(self, matches: np.ndarray) -> np.ndarray:
        """The positions' mask, from `matches`: one bool per value (each tested once)."""
        return matches[self.codes]


class _Groups:
    """Positions by a shared column's code: one array of positions in code order and where
    each code's start, not an array per value (250k of them at 1M songs: 43 MiB)."""

    def __init__(self, codes: np.ndarray, n_codes: int) -> None:
        self._positions = np.argsort(codes, kind="stable").astype(np.int32)  # ascending within
        self._bounds = np.searchsorted(codes[self._positions], np.arange(n_codes + 1)).astype(
            np.int32
        )

    def of(self, code: int | None) -> np.ndarray:
        """The positions holding the code, ascending (none for None)."""
        if code is None or code + 1 >= self._bounds.size:
            return NO_SONGS
        return self._positions[self._bounds[code] : self._bounds[code + 1]]

    def counts(self) -> np.ndarray:
        return np.diff(self._bounds)

    def last(self, codes: np.ndarray) -> np.ndarray:
        """Each code's last position (codes that some position holds)."""
        return self._positions[self._bounds[codes + 1] - 1]


@dataclass(slots=True)
class _Columns:
    rows: np.ndarray  # position -> row, ascending: the songs held; what follows is by position
    search: _SearchText
    artist_keys: _Groups  # by artist search key (search's fuzzy fallback)
    artist_names: _Groups  # by lower-cased artist name
    artist_ids: _Groups
    artist_matcher: ArtistMatcher
    features: np.ndarray  # (n, len(FILTER_FEATURES)) float32
    popularity: np.ndarray
    genres: _Coded  # genre lists
    release_dates: _Coded  # ISO dates
    languages: _Coded  # ISO 639-1 codes
    countries: _Coded  # ISO 3166-1 alpha-2 codes
    orders: dict[SongOrder, np.ndarray]  # positions, best first (static orders only)
    genre_counts: list[tuple[str, int]]  # largest first
    artist_ranking: list[tuple[str, str]]  # (artist id, name's search key), most songs first
    canonical: np.ndarray  # position -> position of its recording's canonical version
    # a canonical position -> its recording's positions, most popular first (2 or more)
    versions: dict[int, np.ndarray]
    # TRENDING and LIKES orders, kept until their counters move: without it every such page
    # (and every alias of it) sorted the whole catalog again (60 ms at 28k songs).
    live_orders: dict[SongOrder, tuple[int, np.ndarray]] = field(default_factory=dict)
    # (search key, order, the order's version) -> the matching positions in that order
    searches: LRUCache[tuple[str, SongOrder, int], np.ndarray] = field(
        default_factory=lambda: LRUCache(
            maxsize=SEARCH_RESULTS_BYTES, getsizeof=lambda positions: max(positions.nbytes, 1)
        )
    )


class CatalogIndex:
    def __init__(self) -> None:
        self.likes: dict[str, int] = {}  # live counters: no rebuild needed
        self.plays: dict[str, int] = {}
        self.trending = TrendingScores()
        self._columns: _Columns | None = None
        self._likes_version = 0
        self._empty()

    def _empty(self) -> None:
        """No songs: the per-row columns, fresh."""
        self._keys = Keys()  # the song id's 12 bytes <-> its row, and the rows held
        self._title_lc = Text()
        self._search = Text()  # a row: "title key\x1fartist key\n" (see _SearchText)
        self._artist_lc = Shared()
        self._artist_key = Shared()
        self._artist_id = Shared()
        self._genres = Shared()  # the song's genre list, as a tuple
        self._release_date = Shared()
        self._language = Shared()
        self._country = Shared()
        self._features = array("f")  # len(FILTER_FEATURES) a row
        self._popularity = array("i")
        self._recording = array("q")

    @classmethod
    def from_documents(cls, docs: Iterable[Mapping[str, Any]]) -> CatalogIndex:
        index = cls()
        index._load(docs)
        return index

    def _load(self, docs: Iterable[Mapping[str, Any]]) -> None:
        artist_keys: dict[str, str] = {}  # the artists' search keys, for this load only
        for doc in docs:
            self._store(doc, artist_keys)

    def replace_all(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Every song afresh (a saved read model that could not be brought up to date)."""
        self._empty()
        self.likes.clear()
        self.plays.clear()
        self._load(docs)
        self._columns = None

    def saved_state(self) -> dict[str, Any]:
        """The songs' columns and counters, for `services/catalog/saved.py` (the trending
        scores are replayed from recent plays; the query columns are rebuilt)."""
        return {k: v for k, v in vars(self).items() if k not in ("trending", "_columns")}

    @classmethod
    def from_saved(cls, state: Mapping[str, Any]) -> CatalogIndex:
        index = cls()
        vars(index).update(state)
        return index

    def _store(self, doc: Mapping[str, Any], artist_keys: dict[str, str] | None = None) -> None:
        """Every value is read before the row is taken: a document that cannot be indexed
        (a field missing, a feature not a number) raises and leaves the columns as they were."""
        song_id = str(doc["_id"])
        key = _key(song_id)
        if key is None:
            raise ValueError(f"a song's id is an ObjectId, not {song_id!r}")
        artist: str = doc["artist"]
        title: str = doc["title"]
        artist_lc = doc.get("artist_lc") or artist.lower()
        artist_key = artist_keys.get(artist) if artist_keys is not None else None
        if artist_key is None:
            artist_key = search_key(artist)
            if artist_keys is not None:
                artist_keys[artist] = artist_key
        title_lc = doc.get("title_lc") or title.lower()
        audio = doc["audio"]
        features = array("f", [float(audio[name]) for name in FILTER_FEATURES])
        popularity = int(doc.get("popularity") or 0)
        recording = recording_digest(recording_key(title, artist))
        row = self._keys.hold(key)
        self._title_lc.put(row, title_lc)
        self._search.put(row, f"{search_key(title)}\x1f{artist_key}\n")
        self._artist_lc.put(row, artist_lc)
        # one string for both when they are the same (most names)
        self._artist_key.put(row, artist_lc if artist_key == artist_lc else artist_key)
        self._artist_id.put(row, str(doc.get("artist_id") or ""))
        self._genres.put(row, tuple(doc.get("genres") or ()))
        self._release_date.put(row, doc.get("release_date") or "")
        self._language.put(row, doc.get("language") or "")
        self._country.put(row, doc.get("country") or "")
        start = row * len(FILTER_FEATURES)
        if start == len(self._features):
            self._features.extend(features)
        else:
            self._features[start : start + len(FILTER_FEATURES)] = features
        put(self._popularity, row, popularity)
        put(self._recording, row, recording)
        self.set_counters(song_id, likes=doc.get("like_count"), plays=doc.get("play_count"))

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
        return len(self._keys)

    def __contains__(self, song_id: object) -> bool:
        return isinstance(song_id, str) and self._row(song_id) is not None

    def _row(self, song_id: str) -> int | None:
        """The row of a song held now."""
        key = _key(song_id)
        return self._keys.row(key) if key is not None else None

    def upsert(self, doc: Mapping[str, Any]) -> None:
        self._columns = None
        self._store(doc)

    def remove(self, song_id: str) -> None:
        self.likes.pop(song_id, None)
        self.plays.pop(song_id, None)
        self.trending.remove(song_id)
        key = _key(song_id)
        if key is not None and self._keys.drop(key) is not None:
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
        return int(self._artist_songs(self._materialise(), artist_id).size)

    def _artist_songs(self, columns: _Columns, artist: str) -> np.ndarray:
        """Positions of the songs whose lower-cased artist name or artist id is `artist`."""
        named = columns.artist_names.of(self._artist_lc.code(artist))
        if not artist:
            return named
        by_id = columns.artist_ids.of(self._artist_id.code(artist))
        if not by_id.size or not named.size:
            return by_id if by_id.size else named
        return np.union1d(named, by_id)

    def genre_counts(self) -> list[tuple[str, int]]:
        return self._materialise().genre_counts

    def versions(self, song_id: str) -> list[str]:
        """The other releases of the song's recording, most popular first."""
        columns = self._materialise()
        position = self._position(columns, song_id)
        if position is None:
            return []
        group = columns.versions.get(int(columns.canonical[position]))
        if group is None:
            return []
        return [self._id(columns, p) for p in group.tolist() if p != position]

    def _position(self, columns: _Columns, song_id: str) -> int | None:
        row = self._row(song_id)
        if row is None:
            return None
        at = int(np.searchsorted(columns.rows, row))
        return at if at < columns.rows.size and columns.rows[at] == row else None

    def _id(self, columns: _Columns, position: int) -> str:
        return self._keys.key(int(columns.rows[position])).hex()

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
                page = known[offset : offset + limit]
                return [self._id(columns, p) for p in page.tolist()], int(known.size)
        n = columns.rows.size
        mask = np.ones(n, dtype=bool)
        if song_filter is not None:
            mask &= self._filter_mask(columns, song_filter)
        if search:
            hits = np.flatnonzero(mask & columns.search.matching(search))
            if not hits.size:
                near = [
                    columns.artist_keys.of(self._artist_key.code(a))
                    for a in columns.artist_matcher.near(search)
                ]
                hits = np.concatenate(near) if near else hits
            mask &= _recordings_of(columns, hits)
        elif once_per_recording:
            mask &= _recordings_of(columns, np.flatnonzero(mask))
        ordered = self._order(columns, order)
        matching = ordered[mask[ordered]]
        if key is not None:
            matching.setflags(write=False)
            if matching.nbytes <= SEARCH_RESULTS_BYTES:  # larger: the cache would refuse it
                columns.searches[key] = matching
        page = matching[offset : offset + limit]
        return [self._id(columns, p) for p in page.tolist()], int(matching.size)

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
        values = np.zeros(columns.rows.size, dtype=np.float64)
        ids = list(counts)
        positions, which = self._positions(columns, ids)
        values[positions] = np.array([counts[ids[k]] for k in which.tolist()], dtype=np.float64)
        # Within equal counts, keep the popularity order (stable sort of the popularity order).
        by_popularity = columns.orders[SongOrder.POPULARITY]
        ordered = by_popularity[np.argsort(-values[by_popularity], kind="stable")]
        columns.live_orders[order] = (version, ordered)
        return ordered

    def _positions(self, columns: _Columns, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The positions of the held songs among `ids`, and where in `ids` each one is."""
        keys: list[bytes] = []
        which: list[int] = []
        for k, song_id in enumerate(ids):
            key = _key(song_id)
            if key is not None:
                keys.append(key)
                which.append(k)
        if not keys or not columns.rows.size:
            return NO_SONGS, NO_SONGS
        rows = self._keys.rows(keys)
        at = np.minimum(np.searchsorted(columns.rows, rows), columns.rows.size - 1)
        held = (rows >= 0) & (columns.rows[at] == rows)
        return at[held], np.array(which)[held]

    def _filter_mask(self, columns: _Columns, song_filter: SongFilter) -> np.ndarray:
        n = columns.rows.size
        mask = np.ones(n, dtype=bool)
        if song_filter.genre:
            genre = song_filter.genre
            lists = columns.genres.values
            mask &= columns.genres.where(np.array([genre in g for g in lists], dtype=bool))
        for artist in (song_filter.artist, song_filter.artist_id):
            if artist:
                of_artist = np.zeros(n, dtype=bool)
                of_artist[self._artist_songs(columns, artist)] = True
                mask &= of_artist
        dates = columns.release_dates
        if song_filter.released_after:
            known = _ascii_column(dates.values)
            mask &= dates.where(known >= _ascii(song_filter.released_after))
        if song_filter.released_before:
            known = _ascii_column(dates.values)
            before = (known != b"") & (known <= _ascii(song_filter.released_before))
            mask &= dates.where(before)
        for coded, wanted in (
            (columns.languages, song_filter.language),
            (columns.countries, song_filter.country),
        ):
            if wanted:
                mask &= coded.where(_ascii_column(coded.values, "S2") == _ascii(wanted))
        for name, bounds in song_filter.ranges.items():
            mask &= _range_mask(columns.features[:, FILTER_FEATURES.index(name)], bounds)
        return mask

    def _materialise(self) -> _Columns:
        if self._columns is not None:
            return self._columns
        rows = self._keys.held()
        n = rows.size
        width = len(FILTER_FEATURES)
        features = np.frombuffer(self._features, dtype=np.float32).reshape(-1, width)[rows]
        popularity = np.frombuffer(self._popularity, dtype=np.int32)[rows]
        # Ties broken by id so that pages never overlap or skip (an id's bytes sort as its hex).
        by_id = np.argsort(self._keys.column(rows), kind="stable")
        id_rank = np.empty(n, dtype=np.int64)
        id_rank[by_id] = np.arange(n)
        titles = self._title_lc.encoded(rows)  # UTF-8 sorts as the strings do
        by_title = sorted(by_id.tolist(), key=titles.__getitem__)  # stable: then by id
        del titles
        dates = _Coded(self._release_date.codes(rows), self._release_date.values)
        orders = {
            SongOrder.POPULARITY: by_id[np.argsort(-popularity[by_id], kind="stable")].astype(
                np.int32
            ),
            SongOrder.TITLE: np.array(by_title, dtype=np.int32),
            SongOrder.RELEASE_DATE: np.lexsort((id_rank, _ranks(dates.values)[dates.codes]))[
                ::-1
            ].astype(np.int32),
        }
        del by_title
        canonical, versions = _recordings(
            np.frombuffer(self._recording, dtype=np.int64)[rows], popularity, id_rank
        )
        genres = _Coded(self._genres.codes(rows), self._genres.values)
        key_codes = self._artist_key.codes(rows)
        artist_keys = _Groups(key_codes, len(self._artist_key.values))
        artist_ids = _Groups(self._artist_id.codes(rows), len(self._artist_id.values))
        self._columns = _Columns(
            rows=rows,
            search=_SearchText(self._search, rows),
            artist_keys=artist_keys,
            artist_names=_Groups(self._artist_lc.codes(rows), len(self._artist_lc.values)),
            artist_ids=artist_ids,
            artist_matcher=ArtistMatcher(
                self._artist_key.values[c] for c in np.flatnonzero(artist_keys.counts()).tolist()
            ),
            features=features,
            popularity=popularity,
            genres=genres,
            release_dates=dates,
            languages=_Coded(self._language.codes(rows), self._language.values),
            countries=_Coded(self._country.codes(rows), self._country.values),
            orders=orders,
            genre_counts=_genre_counts(genres),
            artist_ranking=self._artist_ranking(artist_ids, key_codes),
            canonical=canonical,
            versions=versions,
        )
        return self._columns

    def _artist_ranking(self, by_id: _Groups, key_codes: np.ndarray) -> list[tuple[str, str]]:
        """(artist id, its name's search key: its latest song's), most songs first."""
        ids, keys = self._artist_id.values, self._artist_key.values
        per_code = by_id.counts()
        held = np.flatnonzero(per_code)
        counts: dict[str, int] = {}
        names: dict[str, str] = {}
        for code, count, name in zip(
            held.tolist(),
            per_code[held].tolist(),
            key_codes[by_id.last(held)].tolist(),
            strict=True,
        ):
            if ids[code]:
                counts[ids[code]] = count
                names[ids[code]] = keys[name]
        ranked = sorted(counts.items(), key=lambda item: (-item[1], names[item[0]], item[0]))
        return [(artist_id, names[artist_id]) for artist_id, _ in ranked]


class _SearchText:
    """Substring search over every title and artist at C speed, recent terms remembered.

    A loop of `term in title` over 28k songs took 50 ms a query. Here all rows are one buffer
    (the index's search column, UTF-8 "title\x1fartist\n" a row): one regular-expression scan
    finds the matches and a binary search over the rows' starts maps them to rows. A term
    holds neither separator, so it matches inside one field of one row, as `term in title or
    term in artist` would (and a UTF-8 match is a match of the strings). Bytes no row of the
    songs held owns (a removed song's, an edited one's old line) are skipped by their ends.
    """

    def __init__(self, text: Text, rows: np.ndarray) -> None:
        starts, ends = text.spans(rows)
        by_start = np.argsort(starts, kind="stable")  # the rows' order unless edits moved some
        self._text = text
        self._starts = starts[by_start]
        self._ends = ends[by_start]
        self._positions = by_start.astype(np.int32)
        self._n = rows.size
        # every byte a held row's, in position order (no edit or removal since the load): a
        # match's row is found by its start alone
        self._whole = bool(
            self._n
            and self._starts[0] == 0
            and self._ends[-1] == len(text.buffer)
            and np.array_equal(self._starts[1:], self._ends[:-1])
            and np.array_equal(by_start, np.arange(self._n))
        )
        self._recent: LRUCache[str, np.ndarray] = LRUCache(maxsize=SEARCH_CACHE_SIZE)

    def matching(self, term: str) -> np.ndarray:
        """A read-only mask of the rows whose title or artist contains `term`."""
        cached = self._recent.get(term)
        if cached is not None:
            return cached
        mask = np.zeros(self._n, dtype=bool)
        clean = term.replace("\x1f", "").replace("\n", "")
        if clean and self._n:
            pattern = re.escape(clean.encode())
            found = [m.start() for m in re.finditer(pattern, self._text.buffer)]
            if found and self._whole:
                mask[np.searchsorted(self._starts, found, side="right") - 1] = True
            elif found:
                offsets = np.array(found, dtype=np.int64)
                at = np.searchsorted(self._starts, offsets, side="right") - 1
                inside = (at >= 0) & (offsets < self._ends[np.maximum(at, 0)])
                mask[self._positions[at[inside]]] = True
        mask.setflags(write=False)
        self._recent[term] = mask
        return mask


def _key(song_id: str) -> bytes | None:
    """A song id's 12 bytes (None for what is not an ObjectId's hex, as `str` writes it)."""
    if len(song_id) != 2 * KEY_BYTES:
        return None
    try:
        key = bytes.fromhex(song_id)
    except ValueError:
        return None
    return key if len(key) == KEY_BYTES and key.hex() == song_id else None


def _ranks(values: Sequence[str]) -> np.ndarray:
    """Each value's place among them all, in string order."""
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    return ranks


def _recordings(
    recording: np.ndarray, popularity: np.ndarray, id_rank: np.ndarray
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Each position's canonical version (the most popular of its recording, then the smallest
    id, as `domain.recordings.canonical_versions` picks) and the recordings of 2+ versions."""
    n = recording.size
    grouped = np.lexsort((id_rank, -popularity.astype(np.int64), recording)).astype(np.int32)
    first = np.ones(n, dtype=bool)
    first[1:] = recording[grouped][1:] != recording[grouped][:-1]
    starts = np.flatnonzero(first)
    canonical = np.empty(n, dtype=np.int32)
    canonical[grouped] = grouped[starts[np.cumsum(first) - 1]]
    sizes = np.diff(np.append(starts, n))
    versions = {
        int(grouped[start]): grouped[start : start + size]
        for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True)
    }
    return canonical, versions


def _genre_counts(genres: _Coded) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    per_list = np.bincount(genres.codes, minlength=len(genres.values)).tolist()
    for genre_list, count in zip(genres.values, per_list, strict=True):
        for genre in set(genre_list) if count else ():
            counts[genre] = counts.get(genre, 0) + count
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _ascii(value: str) -> bytes:
    """A filter's value as the bytes columns hold (a non-ASCII value matches nothing)."""
    return value.encode("ascii", "replace")


def _ascii_column(values: Sequence[str], dtype: str = "S") -> np.ndarray:
    encoded = [v.encode("ascii", "replace") for v in values]
    return np.array(encoded, dtype=dtype) if encoded else np.zeros(0, dtype=dtype)


def _recordings_of(columns: _Columns, hits: np.ndarray) -> np.ndarray:
    """The canonical versions of the hits' recordings, as a mask: one entry a recording."""
    found = np.zeros(columns.rows.size, dtype=bool)
    found[columns.canonical[hits]] = True
    return found


def _range_mask(values: np.ndarray, bounds: Range) -> np.ndarray:
    mask = np.ones(values.shape[0], dtype=bool)
    if bounds.min is not None:
        mask &= values >= bounds.min
    if bounds.max is not None:
        mask &= values <= bounds.max
    return mask
