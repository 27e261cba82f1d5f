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

    # Security limits and throttles (docs/security.md lists each with its reason).
    max_query_depth: int = Field(10, alias="MADHUR_MAX_QUERY_DEPTH", ge=1, le=100)
    max_query_tokens: int = Field(2000, alias="MADHUR_MAX_QUERY_TOKENS", ge=50)
    max_query_aliases: int = Field(15, alias="MADHUR_MAX_QUERY_ALIASES", ge=0)
    max_query_cost: int = Field(10_000, alias="MADHUR_MAX_QUERY_COST", ge=1)
    max_body_bytes: int = Field(100_000, alias="MADHUR_MAX_BODY_BYTES", ge=1024)
    csrf_prevention: bool = Field(True, alias="MADHUR_CSRF_PREVENTION")
    max_password_checks_per_request: int = Field(1, alias="MADHUR_MAX_PASSWORD_CHECKS", ge=1)
    login_max_failures_per_email: int = Field(5, alias="MADHUR_LOGIN_MAX_FAILURES", ge=1)
    login_max_failures_per_address: int = Field(
        20, alias="MADHUR_LOGIN_MAX_FAILURES_PER_ADDRESS", ge=1
    )
    login_lock_seconds: int = Field(30, alias="MADHUR_LOGIN_LOCK_SECONDS", ge=1)
    login_lock_max_seconds: int = Field(900, alias="MADHUR_LOGIN_LOCK_MAX_SECONDS", ge=1)
    login_failure_window_seconds: int = Field(900, alias="MADHUR_LOGIN_WINDOW_SECONDS", ge=1)

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
