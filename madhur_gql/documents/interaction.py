from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from madhur_gql.documents.common import utcnow


class InteractionKind(StrEnum):
    PLAY = "PLAY"
    LIKE = "LIKE"
    UNLIKE = "UNLIKE"
    SKIP = "SKIP"
    RATING = "RATING"
    DISLIKE = "DISLIKE"


class Interaction(Document):
    user_id: PydanticObjectId
    song_id: PydanticObjectId
    kind: InteractionKind
    rating: int | None = None  # 1..5, only for RATING
    idempotency_key: str | None = None  # client-chosen: a retried write is stored once
    played_seconds: int | None = None  # PLAY or SKIP: how far into the song
    played_share: float | None = None  # played_seconds over the song's duration, 0..1
    # A LIKE of a liked song or an UNLIKE of a song not liked: history, not a new signal.
    repeated: bool = False
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "interactions"
        indexes = [
            IndexModel([("user_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)]),
            IndexModel([("song_id", pymongo.ASCENDING)]),
            IndexModel([("kind", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)]),
            IndexModel(
                [("user_id", pymongo.ASCENDING), ("idempotency_key", pymongo.ASCENDING)],
                unique=True,
                partialFilterExpression={"idempotency_key": {"$type": "string"}},
            ),
        ]
