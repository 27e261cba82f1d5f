from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from madhur_gql.documents.common import utcnow


class Artist(Document):
    name: str
    name_lc: str  # the natural key: imports match artists by lower-cased name
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "artists"
        indexes = [IndexModel([("name_lc", pymongo.ASCENDING)], unique=True)]
