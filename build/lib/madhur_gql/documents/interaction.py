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


class Interaction(Document):
    user_id: PydanticObjectId
    song_id: PydanticObjectId
    kind: InteractionKind
    rating: int | None = None  # 1..5, only for RATING
    idempotency_key: str | None = None  # client-chosen: a retried write is stored once
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
