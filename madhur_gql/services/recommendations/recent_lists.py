"""The lists served lately, per listener, in this process's memory: where attribution looks.

Bounded twice: the newest RECENT_LISTS of each listener (what an interaction may count for,
here or through the heads in MongoDB) and MAX_LISTS in all, the listeners served longest ago
forgotten first. A list of 20 songs is ~0.75 KB here (song ids packed as 12 bytes each,
sources shared), so the whole stays under ~75 MB however many lists clients ask for.
"""

from __future__ import annotations

import bisect
import sys
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from madhur_gql.documents.served_list import ATTRIBUTION_MINUTES, RECENT_LISTS

MAX_LISTS = 100_000
WINDOW = timedelta(minutes=ATTRIBUTION_MINUTES)
ID_BYTES = 12


@dataclass(slots=True)
class RecentList:
    id: ObjectId
    user_id: ObjectId
    kind: str
    created_at: datetime
    songs: bytes  # the song ids' 12 bytes each, in list order
    sources: tuple[str, ...]  # per song, the source that listed it
    counted: set[str] | None = None  # marks known to be counted (here or by another process)

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> RecentList:
        """From a served list's document (as queued or as stored)."""
        created = doc["created_at"]
        created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
        return cls(
            id=doc["_id"],
            user_id=doc["user_id"],
            kind=sys.intern(doc["kind"]),
            created_at=created,
            songs=b"".join(song.binary for song in doc["song_ids"]),
            sources=tuple(sys.intern(source) for source in doc["sources"]),
            counted=set(doc["counted"]) if doc.get("counted") else None,
        )

    def source_of(self, song: ObjectId) -> str | None:
        """The source of the song's first place in the list; None when it is not listed."""
        key, start = song.binary, 0
        while (at := self.songs.find(key, start)) != -1:
            if at % ID_BYTES == 0:
                place = at // ID_BYTES
                return self.sources[place] if place < len(self.sources) else None
            start = at + 1
        return None

    def is_counted(self, mark: str) -> bool:
        return self.counted is not None and mark in self.counted

    def mark(self, mark: str) -> None:
        if self.counted is None:
            self.counted = set()
        self.counted.add(mark)


class RecentLists:
    def __init__(self, per_listener: int = RECENT_LISTS, total: int = MAX_LISTS) -> None:
        self.per_listener = per_listener
        self.total = total
        self._by_user: OrderedDict[ObjectId, list[RecentList]] = OrderedDict()  # oldest first
        self._by_id: dict[ObjectId, RecentList] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, list_id: object) -> bool:
        return list_id in self._by_id

    def add(self, entry: RecentList) -> None:
        if entry.id in self._by_id:
            return
        lists = self._by_user.setdefault(entry.user_id, [])
        self._by_user.move_to_end(entry.user_id)
        if not lists or lists[-1].created_at <= entry.created_at:
            lists.append(entry)  # the usual case: the newest
        else:  # another worker's list fetched late
            bisect.insort(lists, entry, key=lambda e: e.created_at)
        self._by_id[entry.id] = entry
        if len(lists) > self.per_listener:
            for old in lists[: len(lists) - self.per_listener]:
                del self._by_id[old.id]
            del lists[: len(lists) - self.per_listener]
        while len(self._by_id) > self.total:
            _, forgotten = self._by_user.popitem(last=False)
            for old in forgotten:
                del self._by_id[old.id]

    def newest_first(self, user_id: ObjectId) -> Iterator[RecentList]:
        return reversed(self._by_user.get(user_id, ()))

    def choose(
        self, user_id: ObjectId, song: ObjectId, at: datetime, named: ObjectId | None
    ) -> RecentList | None:
        """The list the interaction counts for: the named one, else the newest of the last
        30 minutes that holds the song; None when memory holds no such list."""
        since = at - WINDOW
        if named is not None:
            entry = self._by_id.get(named)
            if entry is None or entry.user_id != user_id or entry.created_at < since:
                return None
            return entry if entry.source_of(song) is not None else None
        for entry in self.newest_first(user_id):
            if entry.created_at < since:
                return None
            if entry.source_of(song) is not None:
                return entry
        return None
