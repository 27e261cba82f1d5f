"""The item table's ids: one fixed-width bytes column, looked up by binary search.

A list of id strings and a dict back to rows cost ~135 bytes a song (134 MiB at a million
songs) and a Python object per song to unpickle in the API process; here the ids are one
sorted bytes column plus two int32 permutations (the id's bytes + 8: 32 bytes an ObjectId),
unpickled as three buffers. A lookup is one binary search (~5 us; a dict's was 0.3, next to
the ~30 us an event's profile update costs). Songs added between builds (a few) are kept apart
in a list and a dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np


class ItemIds:
    """Row -> id (``ids[row]``) and id -> row (``row_of``); rows only ever appended."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        encoded = [str(i).encode() for i in ids]
        width = max(map(len, encoded), default=1)
        column = np.array(encoded, dtype=f"S{width}") if encoded else np.zeros(0, "S1")
        order = np.argsort(column, kind="stable")
        self._sorted = column[order]  # ids in byte order
        self._rows = order.astype(np.int32)  # sorted position -> row
        self._positions = np.empty(order.size, dtype=np.int32)  # row -> sorted position
        self._positions[order] = np.arange(order.size, dtype=np.int32)
        if encoded and np.any(self._sorted[1:] == self._sorted[:-1]):
            raise ValueError("duplicate item ids in catalog")
        if any(e.endswith(b"\0") for e in encoded):
            raise ValueError("an item id ends with a NUL byte")  # a bytes column drops them
        self._added: list[str] = []
        self._added_rows: dict[str, int] = {}

    def __len__(self) -> int:
        return int(self._sorted.size) + len(self._added)

    def __getitem__(self, row: int) -> str:
        base = int(self._sorted.size)
        if 0 <= row < base:
            return bytes(self._sorted[self._positions[row]]).decode()
        return self._added[row - base]

    def __iter__(self) -> Iterator[str]:
        for value in self._sorted[self._positions].tolist():
            yield value.decode()
        yield from self._added

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and self.row_of(item_id) is not None

    def row_of(self, item_id: str) -> int | None:
        """The id's row, None when the table has no such id."""
        added = self._added_rows.get(item_id)
        if added is not None:
            return added
        key = item_id.encode()
        if not self._sorted.size or len(key) > self._sorted.itemsize:
            return None
        at = int(self._sorted.searchsorted(key))
        if at < self._sorted.size and self._sorted[at] == key:
            return int(self._rows[at])
        return None

    def rows_of(self, item_ids: Sequence[str]) -> list[int | None]:
        """:meth:`row_of` of many ids, with one binary search for all of them."""
        found: list[int | None] = [self._added_rows.get(i) for i in item_ids]
        ask = [k for k, (i, row) in enumerate(zip(item_ids, found, strict=True)) if row is None]
        if not ask or not self._sorted.size:
            return found
        width = self._sorted.itemsize
        keys = [item_ids[k].encode() for k in ask]
        fits = np.array([len(key) <= width for key in keys], dtype=bool)
        # a longer key would be cut to the column's width: it is asked as b"" and not taken
        wanted = np.array([key if len(key) <= width else b"" for key in keys], dtype=f"S{width}")
        at = np.minimum(self._sorted.searchsorted(wanted), self._sorted.size - 1)
        hit = fits & (self._sorted[at] == wanted)
        for k, position, ok in zip(ask, at.tolist(), hit.tolist(), strict=True):
            if ok:
                found[k] = int(self._rows[position])
        return found

    def append(self, item_id: str) -> int:
        """A new row for an id the table does not hold yet; returns the row."""
        row = len(self)
        self._added.append(item_id)
        self._added_rows[item_id] = row
        return row
