"""Settings read from the environment (and an optional `.env`), validated once at start-up."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET_PLACEHOLDER = "change-me"  # noqa: S105 - the value we refuse in production
MIN_JWT_SECRET_BYTES = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", alias="MADHUR_HOST")
    port: int = Field(8000, alias="MADHUR_PORT", ge=0, le=65535)
    env: Environment = Field(Environment.DEVELOPMENT, alias="MADHUR_ENV")
    data_dir: Path = Field(Path(".madhur-data"), alias="MADHUR_DATA_DIR")
    mongodb_uri: str | None = Field(None, alias="MONGODB_URI")
    database_name: str = Field("madhur", alias="MADHUR_DB_NAME")
    catalog_file: Path | None = Field(None, alias="MADHUR_CATALOG_FILE")
    import_catalog_on_start: bool = Field(True, alias="MADHUR_IMPORT_CATALOG")
    log_level: str = Field("INFO", alias="MADHUR_LOG_LEVEL")
    log_json: bool | None = Field(None, alias="MADHUR_LOG_JSON")

    jwt_secret: str = Field(DEV_JWT_SECRET_PLACEHOLDER, alias="MADHUR_JWT_SECRET")
    jwt_issuer: str = Field("madhur", alias="MADHUR_JWT_ISSUER")
    jwt_audience: str = Field("madhur-api", alias="MADHUR_JWT_AUDIENCE")
    access_token_minutes: int = Field(15, alias="MADHUR_ACCESS_TOKEN_MINUTES", ge=1, le=24 * 60)
    refresh_token_days: int = Field(30, alias="MADHUR_REFRESH_TOKEN_DAYS", ge=1, le=365)
    bcrypt_rounds: int = Field(12, alias="MADHUR_BCRYPT_ROUNDS", ge=4, le=16)

    graphiql: bool | None = Field(None, alias="MADHUR_GRAPHIQL")
    introspection: bool | None = Field(None, alias="MADHUR_INTROSPECTION")
    cors_origins: list[str] = Field(default_factory=list, alias="MADHUR_CORS_ORIGINS")

    jwt_secret_generated: bool = Field(False, exclude=True)

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        weak = (
            self.jwt_secret == DEV_JWT_SECRET_PLACEHOLDER
            or len(self.jwt_secret.encode()) < MIN_JWT_SECRET_BYTES
        )
        if weak and self.env is Environment.PRODUCTION:
            raise ValueError(
                f"MADHUR_JWT_SECRET must be set to a random value of at least "
                f"{MIN_JWT_SECRET_BYTES} bytes in production"
            )
        if self.jwt_secret == DEV_JWT_SECRET_PLACEHOLDER:
            # A fresh key per process in development: tokens die with a restart, never leak.
            self.jwt_secret = secrets.token_urlsafe(48)
            self.jwt_secret_generated = True
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def default_catalog_file(self) -> Path:
        if self.catalog_file is not None:
            return self.catalog_file
        return Path(__file__).resolve().parent.parent / "fixtures" / "spotify_songs.csv.gz"


@lru_cache
def get_settings() -> Settings:
    return Settings()
