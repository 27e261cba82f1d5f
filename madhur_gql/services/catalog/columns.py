"""Columns of per-song values held by row, for the read model's structures (store, index).

A Python object per song and field costs ~50 bytes or more; a million songs' worth of them
was most of a GiB. Here a text field is one UTF-8 buffer with 32-bit offsets, a field whose
values many songs share holds each distinct value once and a code per row, and the songs' ids
are one buffer of 12-byte keys looked up by binary search. Rows are only ever appended; a
rewritten row's new text goes at the end of the buffer (edits are rare next to the catalog).
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

KEY_BYTES = 12  # an ObjectId
SETTLE_MIN = 4096  # keys added since the last sort that a dict holds before they are sorted in


class Text:
    """One string per row, all rows' UTF-8 in one buffer (a str object costs ~50 bytes)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        # 32-bit offsets (a buffer of up to 4 GiB: ~100M titles): 8 bytes a row, not 16
        self._starts = array("I")
        self._ends = array("I")

    def put(self, row: int, value: str) -> None:
        """Row `row`'s string (a new row when `row` is the next one)."""
        start = len(self._buffer)
        self._buffer += value.encode()
        put(self._starts, row, start)
        put(self._ends, row, len(self._buffer))

    def get(self, row: int) -> str:
        return self._buffer[self._starts[row] : self._ends[row]].decode()

    @property
    def buffer(self) -> bytearray:
        """Every row's bytes (and a rewritten row's old ones): read it, never resize it."""
        return self._buffer

    def spans(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the rows' strings start and end in `buffer` (copies)."""
        return _numpy(self._starts, np.uint32)[rows], _numpy(self._ends, np.uint32)[rows]

    def encoded(self, rows: np.ndarray) -> list[bytes]:
        """The rows' strings as UTF-8: they sort as the strings do (code point order)."""
        whole = bytes(self._buffer)
        starts, ends = self.spans(rows)
        return [whole[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


class Shared:
    """A field whose values many songs share: each distinct value once, a code per row."""

    def __init__(self) -> None:
        self._values: list[Any] = []
        self._codes: dict[Hashable, int] = {}
        self._rows = array("i")

    def _code(self, value: Hashable) -> int:
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self._values)
            self._values.append(value)
        return code

    def put(self, row: int, value: Hashable) -> None:
        put(self._rows, row, self._code(value))

    def get(self, row: int) -> Any:
        return self._values[self._rows[row]]

    @property
    def values(self) -> Sequence[Any]:
        """Every value held, at its code (some may no longer be any row's)."""
        return self._values

    def code(self, value: Hashable) -> int | None:
        """The value's code; None when no row ever held it."""
        return self._codes.get(value)

    def codes(self, rows: np.ndarray) -> np.ndarray:
        """The rows' codes, in the smallest integer type that holds every code."""
        dtype = np.min_scalar_type(max(len(self._values) - 1, 0))
        return _numpy(self._rows, np.int32)[rows].astype(dtype, copy=False)


class Keys:
    """Songs' ids as 12-byte keys: row -> key (one buffer) and key -> row without a dict,
    and which rows' songs are held now (a removed song's row is left unused; it is its
    key's again if the song comes back).

    A dict of a million 12-byte keys costs ~110 bytes a song; here a lookup is a binary search
    of a sorted copy of the keys with their rows (12 + 4 bytes a song, ~1 us) or of the few
    added since that copy was sorted, kept in a dict until they are an eighth of it (merged in
    then: the sort of two sorted runs is a merge, 40 ms at 1M).
    """

    def __init__(self) -> None:
        self._keys = bytearray()  # KEY_BYTES a row
        self._held = bytearray()  # a row: 1 while its key is held, 0 once dropped
        self._count = 0  # rows held
        # numpy "S12" compares keys as bytes (a trailing NUL included, as all are 12 long);
        # an element read back loses its trailing NULs, so a hit is checked against `_keys`
        self._sorted = np.zeros(0, dtype=f"S{KEY_BYTES}")
        self._sorted_rows = np.zeros(0, dtype=np.int32)
        self._recent: dict[bytes, int] = {}

    def __len__(self) -> int:
        """Keys held."""
        return self._count

    def key(self, row: int) -> bytes:
        return bytes(self._keys[row * KEY_BYTES : (row + 1) * KEY_BYTES])

    def row(self, key: bytes) -> int | None:
        """The row of a key held; None when it is not."""
        row = self._find(key)
        return row if row is not None and self._held[row] else None

    def hold(self, key: bytes) -> int:
        """The key's row, a new one for a key never held; held from now on."""
        row = self._find(key)
        if row is None:
            row = self._add(key)
        if not self._held[row]:
            self._held[row] = 1
            self._count += 1
        return row

    def drop(self, key: bytes) -> int | None:
        """No longer held: the row it had (None when it was not held)."""
        row = self.row(key)
        if row is not None:
            self._held[row] = 0
            self._count -= 1
        return row

    def held(self) -> np.ndarray:
        """The rows held, ascending."""
        return np.flatnonzero(np.frombuffer(bytes(self._held), dtype=np.uint8)).astype(np.int32)

    def rows(self, keys: Sequence[bytes]) -> np.ndarray:
        """`row` of many keys at once (-1 where a key is not held)."""
        found = np.array([self._recent.get(k, -1) for k in keys], dtype=np.int64)
        if self._sorted.size and found.size:
            wanted = np.array(keys, dtype=f"S{KEY_BYTES}")
            at = np.minimum(self._sorted.searchsorted(wanted), self._sorted.size - 1)
            candidates = self._sorted_rows[at]
            ask = np.flatnonzero(found < 0)
            hit = ask[self.column(candidates[ask]) == wanted[ask]]  # as bytes: see __init__
            found[hit] = candidates[hit]
        held = found >= 0
        held[held] = np.frombuffer(bytes(self._held), dtype=np.uint8)[found[held]] == 1
        return np.where(held, found, -1)

    def column(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The rows' keys (every row's by default) as an "S12" array, which sorts as bytes."""
        whole = np.frombuffer(self._keys, dtype=f"S{KEY_BYTES}")  # a view: not kept (_numpy)
        return np.array(whole) if rows is None else whole[rows]

    def _find(self, key: bytes) -> int | None:
        """The key's row, held or not."""
        row = self._recent.get(key)
        if row is not None or len(key) != KEY_BYTES or not self._sorted.size:
            return row
        at = int(self._sorted.searchsorted(key))
        if at < self._sorted.size and self.key(int(self._sorted_rows[at])) == key:
            return int(self._sorted_rows[at])
        return None

    def _add(self, key: bytes) -> int:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a key is {KEY_BYTES} bytes, not {len(key)}")
        row = len(self._held)
        self._keys += key
        self._held.append(0)
        self._recent[key] = row
        if len(self._recent) > max(SETTLE_MIN, self._sorted.size // 8):
            self._settle()
        return row

    def _settle(self) -> None:
        added = np.fromiter(self._recent.values(), dtype=np.int32, count=len(self._recent))
        added = added[np.argsort(self.column(added))]
        keys = np.concatenate([self._sorted, self.column(added)])
        order = np.argsort(keys, kind="stable")  # two sorted runs: a merge
        self._sorted = keys[order]
        self._sorted_rows = np.concatenate([self._sorted_rows, added])[order]
        self._recent = {}


def put(column: array[Any], row: int, value: Any) -> None:
    if row == len(column):
        column.append(value)
    else:
        column[row] = value


def _numpy(column: array[Any], dtype: Any) -> np.ndarray:
    """A copy: a numpy view kept would hold the array's buffer, and it could not grow."""
    return np.array(np.frombuffer(column, dtype=dtype)) if len(column) else np.zeros(0, dtype)
