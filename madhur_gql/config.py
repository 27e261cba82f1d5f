"""Settings read from the environment (and an optional `.env`), validated once at start-up."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
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
    workers: int = Field(1, alias="MADHUR_WORKERS", ge=1, le=64)
    graceful_shutdown_seconds: int = Field(20, alias="MADHUR_GRACEFUL_SHUTDOWN_SECONDS", ge=0)
    db_sync_on_commit: bool = Field(False, alias="MADHUR_DB_SYNC_ON_COMMIT")
    group_commit_ms: float = Field(2.0, alias="MADHUR_GROUP_COMMIT_MS", ge=0, le=100)
    recommender_rebuild_minutes: float = Field(30, alias="MADHUR_RECOMMENDER_REBUILD_MINUTES", ge=0)
    # Added to the 0..1 score of songs in a listener's preferred languages or from their
    # country, in every personal list (README "Listening features" has the measurement).
    local_lift: float = Field(0.4, alias="MADHUR_LOCAL_LIFT", ge=0, le=1)
    log_level: str = Field("INFO", alias="MADHUR_LOG_LEVEL")
    log_json: bool | None = Field(None, alias="MADHUR_LOG_JSON")

    jwt_secret: str = Field(DEV_JWT_SECRET_PLACEHOLDER, alias="MADHUR_JWT_SECRET")
    jwt_issuer: str = Field("madhur", alias="MADHUR_JWT_ISSUER")
    jwt_audience: str = Field("madhur-api", alias="MADHUR_JWT_AUDIENCE")
    access_token_minutes: int = Field(15, alias="MADHUR_ACCESS_TOKEN_MINUTES", ge=1, le=24 * 60)
    refresh_token_days: int = Field(30, alias="MADHUR_REFRESH_TOKEN_DAYS", ge=1, le=365)
    bcrypt_rounds: int = Field(12, alias="MADHUR_BCRYPT_ROUNDS", ge=4, le=16)

    # GraphQL ecosystem: GraphiQL's assets (default: the vendored package data), the APQ
    # cache, CDN cache hints for anonymous catalog reads (0: never), trusted documents.
    graphiql_assets_dir: Path | None = Field(None, alias="MADHUR_GRAPHIQL_ASSETS_DIR")
    apq_cache_size: int = Field(1000, alias="MADHUR_APQ_CACHE_SIZE", ge=1, le=1_000_000)
    catalog_cache_seconds: int = Field(60, alias="MADHUR_CATALOG_CACHE_SECONDS", ge=0, le=86400)
    trusted_documents: Path | None = Field(None, alias="MADHUR_TRUSTED_DOCUMENTS")

    # The operators' dashboard at /admin/dashboard/ (default: on in development only).
    dashboard: bool | None = Field(None, alias="MADHUR_DASHBOARD")
    dashboard_sample_seconds: float = Field(
        10.0, alias="MADHUR_DASHBOARD_SAMPLE_SECONDS", gt=0, le=3600
    )

    graphiql: bool | None = Field(None, alias="MADHUR_GRAPHIQL")
    introspection: bool | None = Field(None, alias="MADHUR_INTROSPECTION")
    cors_origins: list[str] = Field(default_factory=list, alias="MADHUR_CORS_ORIGINS")

    # Security limits and throttles (docs/security.md lists each with its reason).
    max_query_depth: int = Field(10, alias="MADHUR_MAX_QUERY_DEPTH", ge=1, le=100)
    max_query_tokens: int = Field(2000, alias="MADHUR_MAX_QUERY_TOKENS", ge=50)
    max_query_aliases: int = Field(15, alias="MADHUR_MAX_QUERY_ALIASES", ge=0)
    max_query_cost: int = Field(10_000, alias="MADHUR_MAX_QUERY_COST", ge=1)
    max_body_bytes: int = Field(100_000, alias="MADHUR_MAX_BODY_BYTES", ge=1024)
    # Each client's (address's, account's) budget of query cost over time; 0 turns it off.
    client_cost_budget: int = Field(200_000, alias="MADHUR_CLIENT_COST_BUDGET", ge=0)
    client_cost_window_seconds: float = Field(60, alias="MADHUR_CLIENT_COST_WINDOW_SECONDS", gt=0)
    operation_timeout: float = Field(10, alias="MADHUR_OPERATION_TIMEOUT_SECONDS", gt=0)
    csrf_prevention: bool = Field(True, alias="MADHUR_CSRF_PREVENTION")
    max_password_checks_per_request: int = Field(1, alias="MADHUR_MAX_PASSWORD_CHECKS", ge=1)
    login_max_failures_per_email: int = Field(5, alias="MADHUR_LOGIN_MAX_FAILURES", ge=1)
    login_max_failures_per_address: int = Field(
        20, alias="MADHUR_LOGIN_MAX_FAILURES_PER_ADDRESS", ge=1
    )
    login_lock_seconds: int = Field(30, alias="MADHUR_LOGIN_LOCK_SECONDS", ge=1)
    login_lock_max_seconds: int = Field(900, alias="MADHUR_LOGIN_LOCK_MAX_SECONDS", ge=1)
    login_failure_window_seconds: int = Field(900, alias="MADHUR_LOGIN_WINDOW_SECONDS", ge=1)
    session_max_days: int = Field(90, alias="MADHUR_SESSION_MAX_DAYS", ge=1, le=3650)
    register_max_conflicts: int = Field(10, alias="MADHUR_REGISTER_MAX_CONFLICTS", ge=1)
    # Shared lists (trending, the item graph) weigh a fresh or thin account at `thin weight`
    # until it is this old and has this many different songs (services/accounts/standing.py).
    established_account_days: float = Field(7, alias="MADHUR_ESTABLISHED_ACCOUNT_DAYS", ge=0)
    established_min_songs: int = Field(5, alias="MADHUR_ESTABLISHED_MIN_SONGS", ge=0)
    thin_account_weight: float = Field(0.1, alias="MADHUR_THIN_ACCOUNT_WEIGHT", ge=0, le=1)
    register_max_per_address: int = Field(10, alias="MADHUR_REGISTER_MAX_PER_ADDRESS", ge=1)
    login_max_failures_per_account: int = Field(
        20, alias="MADHUR_LOGIN_MAX_FAILURES_PER_ACCOUNT", ge=1
    )
    login_known_address_days: float = Field(30, alias="MADHUR_LOGIN_KNOWN_ADDRESS_DAYS", gt=0)

    # The HTTP server (http/server.py): trusted proxies, connection limits, read deadlines.
    forwarded_allow_ips: str = Field("", alias="MADHUR_FORWARDED_ALLOW_IPS")
    header_timeout: float = Field(10, alias="MADHUR_HEADER_TIMEOUT_SECONDS", gt=0)
    body_timeout: float = Field(10, alias="MADHUR_BODY_TIMEOUT_SECONDS", gt=0)
    keep_alive_timeout: int = Field(5, alias="MADHUR_KEEP_ALIVE_SECONDS", ge=1)
    max_connections: int = Field(1000, alias="MADHUR_MAX_CONNECTIONS", ge=1)

    # Spotify metadata (services/spotify/): off unless both credentials are set.
    spotify_client_id: str | None = Field(None, alias="SPOTIFY_CLIENT_ID")
    spotify_client_secret: SecretStr | None = Field(None, alias="SPOTIFY_CLIENT_SECRET")
    spotify_api_url: str = Field("https://api.spotify.com/v1/", alias="SPOTIFY_API_URL")
    spotify_token_url: str = Field(
        "https://accounts.spotify.com/api/token", alias="SPOTIFY_TOKEN_URL"
    )
    spotify_requests_per_second: float = Field(
        3.0, alias="SPOTIFY_REQUESTS_PER_SECOND", gt=0, le=100
    )
    spotify_refresh_days: float = Field(30, alias="SPOTIFY_REFRESH_DAYS", gt=0)
    spotify_workers: int = Field(2, alias="SPOTIFY_WORKERS", ge=1, le=16)
    spotify_queue_size: int = Field(1000, alias="SPOTIFY_QUEUE_SIZE", ge=1)
    spotify_max_attempts: int = Field(4, alias="SPOTIFY_MAX_ATTEMPTS", ge=1, le=10)
    spotify_backoff_seconds: float = Field(0.5, alias="SPOTIFY_BACKOFF_SECONDS", ge=0)
    spotify_timeout_seconds: float = Field(5.0, alias="SPOTIFY_TIMEOUT_SECONDS", gt=0)

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
    def dashboard_enabled(self) -> bool:
        return self.dashboard if self.dashboard is not None else not self.is_production

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
