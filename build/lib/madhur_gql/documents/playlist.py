from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from madhur_gql.documents.common import utcnow


class Playlist(Document):
    """A listener's playlist. `version` guards read-modify-write edits such as reordering."""

    owner_id: PydanticObjectId
    name: str
    description: str = ""
    public: bool = False
    song_ids: list[PydanticObjectId] = Field(default_factory=list)
    version: int = 0
    edit_keys: list[str] = Field(default_factory=list)  # recent idempotency keys, newest last
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "playlists"
        indexes = [
            IndexModel([("owner_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)]),
            IndexModel([("song_ids", pymongo.ASCENDING)]),
        ]
