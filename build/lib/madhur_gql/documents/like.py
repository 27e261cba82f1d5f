from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from madhur_gql.documents.common import utcnow


class Like(Document):
    """A favourite. The unique (user, song) index makes liking twice one like."""

    user_id: PydanticObjectId
    song_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "likes"
        indexes = [
            IndexModel(
                [("user_id", pymongo.ASCENDING), ("song_id", pymongo.ASCENDING)], unique=True
            ),
            IndexModel([("user_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)]),
            IndexModel([("song_id", pymongo.ASCENDING)]),
        ]
