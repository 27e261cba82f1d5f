from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from madhur_gql.documents.common import utcnow


class RefreshToken(Document):
    """One issued refresh token. Only its SHA-256 is stored; the token itself is never kept.

    Tokens of one login share a `family_id`: presenting an already-rotated token revokes
    the whole family (RFC 9700 reuse detection).
    """

    token_hash: str
    user_id: PydanticObjectId
    family_id: str
    expires_at: datetime
    created_at: datetime = Field(default_factory=utcnow)
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel([("token_hash", pymongo.ASCENDING)], unique=True),
            IndexModel([("family_id", pymongo.ASCENDING)]),
            IndexModel([("user_id", pymongo.ASCENDING)]),
        ]
