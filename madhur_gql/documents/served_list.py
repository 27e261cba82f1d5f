"""Served lists and their daily counts: what online metrics are computed from.

A served list is kept only as long as a play can still be attributed to it (30 minutes, plus
a margin for the TTL monitor), so the collection holds the last half hour of lists and no
more: at 20 songs a list, about 600 bytes each. The daily counts are one small document per
day, list kind and source, kept for good: a year of them is a few thousand documents.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from madhur_gql.documents.common import utcnow

ATTRIBUTION_MINUTES = 30
KEEP_SECONDS = ATTRIBUTION_MINUTES * 60 + 300
RECENT_LISTS = 64  # per listener: the lists an interaction may count for (memory and heads)


class ListKind(StrEnum):
    """Where a list was served: each is measured on its own."""

    RECOMMENDATIONS = "RECOMMENDATIONS"
    LIVE = "LIVE"
    SIMILAR = "SIMILAR"
    RADIO = "RADIO"
    MIX = "MIX"
    JOURNEY = "JOURNEY"


class ServedList(Document):
    """One list as a listener saw it; `_id` is the `listId` every item of it carries."""

    user_id: PydanticObjectId
    kind: ListKind
    song_ids: list[PydanticObjectId]
    sources: list[str]  # per song, the recommendation source that picked it
    counted: list[str] = Field(default_factory=list)  # "<song id>:<kind>" already attributed
    # per mark, the ticket of the attribution that set it: which process won a race to it
    claims: dict[str, PydanticObjectId] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "served_lists"
        indexes = [
            IndexModel([("user_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)]),
            IndexModel([("created_at", pymongo.ASCENDING)], expireAfterSeconds=KEEP_SECONDS),
        ]


class ServedListHead(Document):
    """A listener's newest served lists (`[list id, served at]`, oldest first), `_id` the user's.

    What another worker (or this one after a restart) reads to find the lists an interaction
    may count for: one point lookup, then the lists by `_id`, never a scan of the listener's
    lists (the embedded server has no bounded index walk for "newest N of a user").
    """

    id: PydanticObjectId
    lists: list[list[object]] = Field(default_factory=list)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "served_list_heads"
        indexes = [
            IndexModel([("updated_at", pymongo.ASCENDING)], expireAfterSeconds=KEEP_SECONDS),
        ]


class ListDayStats(Document):
    """Counts for one UTC day, list kind and source; `_id` is "<day>|<kind>|<source>"."""

    id: str  # type: ignore[assignment]
    day: str  # ISO date of the list's serving, UTC
    kind: ListKind
    source: str
    impressions: int = 0
    plays: int = 0
    likes: int = 0
    skips: int = 0
    dislikes: int = 0

    class Settings:
        name = "served_list_stats"
        indexes = [IndexModel([("day", pymongo.DESCENDING)])]
