from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, Indexed
from pydantic import Field

from madhur_gql.documents.common import utcnow


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
    token_version: int = 0  # in every access token; bumping it revokes them all
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "users"
