from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, Indexed, PydanticObjectId
from pydantic import Field

from madhur_gql.documents.common import utcnow

MAX_ENDED_SESSIONS = 100


class Role(StrEnum):
    USER = "USER"
    ADMIN = "ADMIN"


class User(Document):
    email: Indexed(str, unique=True)  # type: ignore[valid-type]  # stored lower-cased
    password_hash: str
    display_name: str
    role: Role = Role.USER
    favourite_genres: list[str] = Field(default_factory=list)
    favourite_moods: list[str] = Field(default_factory=list)
    preferred_languages: list[str] = Field(default_factory=list)  # ISO 639-1, lower case
    country: str | None = None  # ISO 3166-1 alpha-2, upper case
    hidden_artist_ids: list[PydanticObjectId] = Field(default_factory=list)
    token_version: int = 0  # in every access token; bumping it revokes them all
    # Sessions (refresh-token families) ended lately: their access tokens are refused. The
    # newest MAX_ENDED_SESSIONS are kept, far more than end within one access-token lifetime.
    ended_sessions: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "users"
