"""The engine's item table: one row per catalog song, every per-item array aligned by row.

The scorer, the re-ranker and the explanations read items only through this table (audio
vectors, artist codes, genre masks, popularity, CF evidence and the weights derived from it),
so a catalog edit touches one place. Rows are never reused: a removed song stays as a dead row
until the next full build.

Versions of one recording (a radio edit, a remaster: ``CatalogItems.recordings``) keep their rows
but are one song to the engine: ``canonical`` maps each row to its recording's canonical row (the
most popular version), events and seeds on any version land there, and only canonical rows are
``alive`` (recommendable). A canonical version removed between builds hides its recording until
the next build elects another.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from cachetools import LRUCache

from madhur_gql.domain.recordings import canonical_versions, recording_digest
from madhur_gql.recommender.config import EngineConfig
from madhur_gql.recommender.content import ContentIndex, ContentIVF
from madhur_gql.recommender.features import FEATURE_NAMES, unit_scale
from madhur_gql.recommender.item_ids import ItemIds
from madhur_gql.recommender.values import CatalogItems

GENRE_MASKS = 256  # genre strings come from requests: keep the mask cache bounded


def _codes(values: Sequence[str], n: int) -> np.ndarray:
    """Per-item short codes as ASCII bytes (b"" for unknown; 3 bytes a song where numpy str
    took 12); an empty list means none known."""
    if not values:
        return np.full(n, b"", dtype="S3")
    return np.asarray([code(v) for v in values], dtype="S3")


def code(value: str | None) -> bytes:
    """A language or country code as the item table holds it."""
    return (value or "").encode("ascii", "replace")


def _genre_key(genre: str) -> str:
    return genre.strip().lower()


class RecordingRows:
    """Recording key -> its canonical row, for the songs added between builds.

    Sorted 64-bit digests with their rows: 16 bytes a song, where a dict of the key strings
    was ~140 (134 MiB at a million songs). Two keys sharing a digest (odds ~1e-7 at 1M songs)
    would only group two songs' versions until the next build.
    """

    def __init__(self, keys: Sequence[str] = (), rows: Sequence[int] | np.ndarray = ()) -> None:
        digests = np.fromiter(map(recording_digest, keys), dtype=np.int64, count=len(keys))
        order = np.argsort(digests, kind="stable")
        self._digests = digests[order]
        self._rows = np.asarray(rows, dtype=np.int64).reshape(-1)[order]
        self._added: dict[int, int] = {}

    def get(self, key: str) -> int | None:
        digest = recording_digest(key)
        added = self._added.get(digest)
        if added is not None:
            return added
        at = int(np.searchsorted(self._digests, digest))
        if at < self._digests.size and self._digests[at] == digest:
            return int(self._rows[at])
        return None

    def set(self, key: str, row: int) -> None:
        self._added[recording_digest(key)] = row


class ItemTable:
    """Aligned per-item arrays plus the id <-> row maps."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.ids = ItemIds()  # row -> id, and id -> row (row_of)
        self.raw = np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)  # raw audio features
        self.unit = np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)  # 0..1, for moods
        self.content = ContentIndex.build(self.raw)  # standardised unit vectors
        self.ivf: ContentIVF | None = None  # set above ``dense_limit`` items
        self.artist_codes = np.zeros(0, dtype=np.int32)
        self._artist_names: dict[str, int] = {}
        self.genres: list[tuple[str, ...]] = []  # one tuple object per distinct genre list
        self._genre_lists: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._genre_masks: LRUCache[str, np.ndarray] = LRUCache(maxsize=GENRE_MASKS)
        self.popularity = np.zeros(0, dtype=np.float32)
        self.languages = np.zeros(0, dtype="S3")  # ISO 639-1, b"" when unknown
        self.countries = np.zeros(0, dtype="S3")  # ISO 3166-1 alpha-2, b"" when unknown
        self.alive = np.zeros(0, dtype=bool)
        self.canonical = np.zeros(0, dtype=np.int64)  # row -> its recording's canonical row
        self._recordings = RecordingRows()
        self.evidence = np.zeros(0, dtype=np.float32)  # users/groups with the item (CF)
        self.content_weight = np.zeros(0, dtype=np.float32)
        self.popular_score = np.zeros(0, dtype=np.float32)
        self.debias = np.zeros(0, dtype=np.float32)
        self.cf_supported = np.ones(0, dtype=bool)  # enough established holders for CF
        self.graph_debias = np.zeros(0, dtype=np.float32)  # graphs-only engine (no factors)
        self.popular_order = np.zeros(0, dtype=np.int64)
        self.arange = np.zeros(0, dtype=np.int64)  # "every item" (identity-checked)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, items: CatalogItems, config: EngineConfig) -> ItemTable:
        table = cls(config)
        n = len(items.ids)
        ids = [str(i) for i in items.ids]
        table.ids = ItemIds(ids)  # raises on duplicate ids
        table.raw = np.asarray(items.features, dtype=np.float32).reshape(n, len(FEATURE_NAMES))
        table.unit = unit_scale(table.raw)
        table.content = ContentIndex.build(table.raw)
        if n > config.dense_limit:
            table.ivf = ContentIVF.build(table.content.vectors, max(16, int(math.sqrt(n))))
        table.artist_codes = table._encode_artists(items.artists)
        table.genres = [table._genre_list(gs) for gs in items.genres]
        table.popularity = np.asarray(items.popularity, dtype=np.float32).reshape(n)
        table.languages = _codes(items.languages, n)
        table.countries = _codes(items.countries, n)
        keys = list(items.recordings) if len(items.recordings) == n else ids
        table.canonical = np.asarray(
            canonical_versions(keys, table.popularity.tolist(), ids), dtype=np.int64
        ).reshape(n)
        if len(items.recordings) == n:  # without keys, upserts never look one up
            table._recordings = RecordingRows(keys, table.canonical)
        table.alive = table.canonical == np.arange(n)
        table.evidence = np.zeros(n, dtype=np.float32)
        table._refresh_weights()
        return table

    def is_all(self, cand: np.ndarray) -> bool:
        """True when ``cand`` is the whole catalog (the dense path), not a shortlist."""
        return cand is self.arange

    def rows(self, item_ids: Iterable[str]) -> np.ndarray:
        """Row indices of the known ids, in order (unknown ids are skipped)."""
        found = [row for row in self.ids.rows_of([str(i) for i in item_ids]) if row is not None]
        return np.asarray(found, dtype=np.int64)

    def song_row(self, item_id: str) -> int | None:
        """The row the engine knows an id's song by: its recording's canonical version."""
        row = self.ids.row_of(str(item_id))
        return None if row is None else int(self.canonical[row])

    def song_rows(self, item_ids: Iterable[str]) -> np.ndarray:
        """:meth:`song_row` of the known ids, each song once, in order."""
        rows = self.canonical[self.rows(item_ids)].tolist()
        return np.asarray(list(dict.fromkeys(rows)), dtype=np.int64)

    def song_index(self) -> dict[str, int]:
        """Every id -> :meth:`song_row` (what the build's co-occurrence rows are counted on)."""
        canonical = self.canonical.tolist()
        return {item_id: canonical[row] for row, item_id in enumerate(self.ids)}

    def set_evidence(self, evidence: np.ndarray, supported: np.ndarray | None = None) -> None:
        """New CF evidence per item (after a graph build); refreshes the derived weights.

        `supported` (bool per item): whether enough established listeners hold the item for
        its CF score to count; an item only fresh accounts hold ranks by content alone.
        """
        self.evidence = np.asarray(evidence, dtype=np.float32)
        self.cf_supported = (
            np.ones(self.evidence.size, dtype=bool) if supported is None else supported
        )
        self._refresh_weights()

    def upsert(self, items: CatalogItems) -> int:
        """Update known songs in place and append new ones; returns the new row count.

        Content standardisation stats stay those of the last build.
        """
        feats = np.asarray(items.features, dtype=np.float32).reshape(-1, len(FEATURE_NAMES))
        rows = self.ids.rows_of([str(x) for x in items.ids])
        known = [(k, row) for k, row in enumerate(rows) if row is not None]
        new = [k for k, row in enumerate(rows) if row is None]
        popularity = np.asarray(items.popularity, dtype=np.float32)
        if known:
            src = np.array([k for k, _ in known])
            dst = np.array([i for _, i in known])
            self.raw[dst] = feats[src]
            self.unit[dst] = unit_scale(feats[src])
            self.content.replace(dst, feats[src])
            if self.ivf is not None:
                self.ivf.update(dst, self.content.vectors[dst])
            self.artist_codes[dst] = self._encode_artists([items.artists[k] for k in src])
            for k, i in known:
                self.genres[i] = self._genre_list(items.genres[k])
            self.popularity[dst] = popularity[src]
            self.languages[dst] = _codes(items.languages, len(items.ids))[src]
            self.countries[dst] = _codes(items.countries, len(items.ids))[src]
            self.alive[dst] = self.canonical[dst] == dst
        if new:
            src = np.array(new)
            start = len(self.ids)
            canonical = []
            for off, k in enumerate(new):
                self.ids.append(str(items.ids[k]))
                key = items.recordings[k] if len(items.recordings) == len(items.ids) else ""
                known_row = self._recordings.get(key) if key else None
                if known_row is None or (known_row < self.alive.size and not self.alive[known_row]):
                    known_row = start + off
                    if key:
                        self._recordings.set(key, known_row)
                canonical.append(known_row)
            self.canonical = np.concatenate([self.canonical, np.asarray(canonical, np.int64)])
            self.raw = np.vstack([self.raw, feats[src]])
            self.unit = np.vstack([self.unit, unit_scale(feats[src])])
            self.content.extend(feats[src])
            if self.ivf is not None:
                self.ivf.extend(self.content.vectors[start:])
            self.artist_codes = np.concatenate(
                [self.artist_codes, self._encode_artists([items.artists[k] for k in src])]
            )
            self.genres.extend(self._genre_list(items.genres[k]) for k in src)
            self.popularity = np.concatenate([self.popularity, popularity[src]])
            self.languages = np.concatenate(
                [self.languages, _codes(items.languages, len(items.ids))[src]]
            )
            self.countries = np.concatenate(
                [self.countries, _codes(items.countries, len(items.ids))[src]]
            )
            own = self.canonical[start:] == np.arange(start, len(self.ids))
            self.alive = np.concatenate([self.alive, own])
            self.evidence = np.concatenate([self.evidence, np.zeros(len(new), np.float32)])
        self._genre_masks.clear()
        self._refresh_weights()
        return len(new)

    def remove(self, item_ids: Iterable[str]) -> None:
        """Hide rows from every result at once (they stay until the next build)."""
        self.alive[self.rows(item_ids)] = False

    def artist_code(self, name: str) -> int | None:
        """The code of an artist name (any case), None when no song has it."""
        return self._artist_names.get(name.strip().lower())

    def artist_names(self) -> list[str]:
        """Lower-cased artist names by code."""
        names = [""] * len(self._artist_names)
        for name, code in self._artist_names.items():
            names[code] = name
        return names

    def _genre_list(self, genres: Iterable[str]) -> tuple[str, ...]:
        """The lower-cased genre list, one object for every song with it (a tuple per song
        was 134 MiB at a million songs; there are a few thousand distinct lists)."""
        key = tuple(g.lower() for g in genres)
        return self._genre_lists.setdefault(key, key)

    def genre_mask(self, genre: str) -> np.ndarray:
        key = _genre_key(genre)
        mask = self._genre_masks.get(key)
        if mask is None:
            mask = np.fromiter(
                (key in gs for gs in self.genres), dtype=bool, count=len(self.genres)
            )
            if mask.any():  # a genre no song has is not kept: made-up ones cannot fill it
                self._genre_masks[key] = mask
        return mask

    @property
    def genre_masks_cached(self) -> int:
        return len(self._genre_masks)

    def valid_at(
        self,
        cand: np.ndarray,
        drop: np.ndarray,
        genre: str | None,
        language: str | None = None,
        country: str | None = None,
    ) -> np.ndarray:
        """Eligibility of each candidate: alive, not dropped, in the genre, language and
        country asked for (if any; an item of unknown language or country is in none)."""
        dense = self.is_all(cand)
        valid = self.alive.copy() if dense else self.alive[cand]
        if drop.size:
            if dense:
                valid[drop] = False
            else:
                valid &= ~np.isin(cand, drop)
        if genre:
            mask = self.genre_mask(genre)
            valid &= mask if dense else mask[cand]
        if language:
            valid &= (self.languages if dense else self.languages[cand]) == code(language)
        if country:
            valid &= (self.countries if dense else self.countries[cand]) == code(country)
        return valid

    def popular_candidates(
        self,
        drop: np.ndarray,
        genre: str | None,
        need: int,
        language: str | None = None,
        country: str | None = None,
    ) -> np.ndarray:
        """The most popular items, scanning down the precomputed order until enough qualify."""
        if self.ivf is None:
            return self.arange
        order = self.popular_order
        take = max(4 * need, 1024)
        while True:
            cand = order[:take]
            valid = self.valid_at(cand, drop, genre, language, country)
            if take >= order.size or int(valid.sum()) >= need:
                return cand
            take *= 4

    def nbytes(self) -> tuple[int, int]:
        """(per-item arrays, content index) bytes, for /metrics."""
        arrays = (
            self.raw,
            self.unit,
            self.artist_codes,
            self.popularity,
            self.alive,
            self.evidence,
            self.content_weight,
            self.popular_score,
        )
        content = self.content.nbytes() + (self.ivf.nbytes() if self.ivf else 0)
        return int(sum(a.nbytes for a in arrays)), content

    def _encode_artists(self, artists: Sequence[str]) -> np.ndarray:
        codes = np.empty(len(artists), dtype=np.int32)
        for i, a in enumerate(artists):
            key = (a or "").strip().lower()
            codes[i] = self._artist_names.setdefault(key, len(self._artist_names))
        return codes

    def _refresh_weights(self) -> None:
        """Per-item weights that follow from the evidence: content share, popularity, debias."""
        cfg = self.config
        share = 1.0 / (1.0 + self.evidence / cfg.evidence_half)
        weight = cfg.content_min + (cfg.content_max - cfg.content_min) * share
        # items without audio features cannot be scored by content: keep their CF score whole
        self.content_weight = np.where(self.content.present, weight, 0.0).astype(np.float32)
        pop = np.clip(np.nan_to_num(self.popularity), 0.0, 100.0) / 100.0
        ev = np.log1p(self.evidence)
        ev_norm = ev / ev.max() if ev.size and ev.max() > 0 else ev
        self.popular_score = (0.5 * pop + 0.5 * ev_norm).astype(np.float32)
        supported = self.cf_supported
        if supported.size < self.evidence.size:  # songs added since the build
            supported = np.concatenate(
                [supported, np.ones(self.evidence.size - supported.size, dtype=bool)]
            )
            self.cf_supported = supported
        self.debias = np.power(self.evidence + 1.0, -cfg.debias_gamma).astype(np.float32)
        self.graph_debias = np.power(self.evidence + 1.0, -cfg.graph_debias_gamma).astype(
            np.float32
        )
        self.popular_order = np.argsort(-self.popular_score, kind="stable")
        self.arange = np.arange(len(self.ids), dtype=np.int64)
