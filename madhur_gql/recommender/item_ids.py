"""The item table's ids: one fixed-width bytes column, looked up by binary search.

A list of id strings and a dict back to rows cost ~135 bytes a song (134 MiB at a million
songs) and a Python object per song to unpickle in the API process; the column is the id's
bytes plus 4 (an int32 sort order), and unpickles as two buffers. Songs added between builds
(a few) are kept apart in a list and a dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np


class ItemIds:
    """Row -> id (``ids[row]``) and id -> row (``row_of``); rows only ever appended."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        encoded = [str(i).encode() for i in ids]
        width = max(map(len, encoded), default=1)
        self._column = np.array(encoded, dtype=f"S{width}") if encoded else np.zeros(0, "S1")
        self._order = np.argsort(self._column, kind="stable").astype(np.int32)
        if encoded and np.any(self._column[self._order[1:]] == self._column[self._order[:-1]]):
            raise ValueError("duplicate item ids in catalog")
        if any(e.endswith(b"\0") for e in encoded):
            raise ValueError("an item id ends with a NUL byte")  # a bytes column drops them
        self._added: list[str] = []
        self._added_rows: dict[str, int] = {}

    def __len__(self) -> int:
        return int(self._column.size) + len(self._added)

    def __getitem__(self, row: int) -> str:
        base = int(self._column.size)
        if 0 <= row < base:
            return bytes(self._column[row]).decode()
        return self._added[row - base]

    def __iter__(self) -> Iterator[str]:
        for value in self._column.tolist():
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
        if not self._column.size or len(key) > self._column.itemsize:
            return None
        at = int(np.searchsorted(self._column, key, sorter=self._order))
        if at < self._order.size:
            row = int(self._order[at])
            if self._column[row] == key:
                return row
        return None

    def append(self, item_id: str) -> int:
        """A new row for an id the table does not hold yet; returns the row."""
        row = len(self)
        self._added.append(item_id)
        self._added_rows[item_id] = row
        return row
