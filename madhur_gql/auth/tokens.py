"""JWT access tokens (RFC 8725, RFC 9068 typing) and opaque refresh tokens (RFC 9700)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from cachetools import TTLCache

from madhur_gql.config import Settings
from madhur_gql.errors import Unauthenticated

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
ACCESS_TOKEN_HEADER_TYPE = "at+jwt"  # noqa: S105 - RFC 9068 explicit typing
REQUIRED_CLAIMS = ["sub", "exp", "iat", "nbf", "jti", "iss", "aud", "typ", "ver", "sid"]
MAX_TOKEN_LENGTH = 4096  # ours are ~400 bytes; do not base64-decode megabytes for an attacker
VERIFIED_TOKENS = 10_000  # tokens whose verified claims are kept
VERIFIED_SECONDS = 30.0  # how long; expiry is checked again on every use


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    role: str
    jti: str
    expires_at: datetime
    version: int = 0
    session_id: str = ""


def issue_access_token(
    settings: Settings, user_id: str, role: str, version: int = 0, *, session_id: str
) -> str:
    """A short-lived token; `ver` ties it to the user's token version (bumped to revoke all),
    `sid` to its session (the refresh-token family: ending the session ends the token)."""
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "role": role,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=settings.access_token_minutes),
        "jti": uuid.uuid4().hex,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "typ": ACCESS_TOKEN_TYPE,
        "ver": version,
        "sid": session_id,
    }
    return jwt.encode(
        claims, settings.jwt_secret, algorithm=ALGORITHM, headers={"typ": ACCESS_TOKEN_HEADER_TYPE}
    )


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """Verify signature, algorithm, expiry, issuer, audience and token type, or raise."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated("Invalid access token.")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],  # explicit allow-list: never "none", never RS/HS confusion
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("Access token expired.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("Invalid access token.") from exc
    if (
        header.get("typ") != ACCESS_TOKEN_HEADER_TYPE
        or claims.get("typ") != ACCESS_TOKEN_TYPE
        or not isinstance(claims.get("sub"), str)
        or not isinstance(claims.get("ver"), int)
        or not isinstance(claims.get("sid"), str)
    ):
        raise Unauthenticated("Invalid access token.")
    return AccessClaims(
        user_id=claims["sub"],
        role=str(claims.get("role", "USER")),
        jti=claims["jti"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        version=claims["ver"],
        session_id=claims["sid"],
    )


class VerifiedTokens:
    """Access tokens verified a moment ago, so a request does not verify its token again.

    Checking the signature and claims took a tenth of a cheap request's CPU. A token's claims
    are fixed by its bytes and our key, so they are kept by the token for VERIFIED_SECONDS
    (bounded) and only the expiry is checked again. Only tokens that verified are kept.
    Revocation is not this layer's job: the accounts service checks the session per request.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._claims: TTLCache[str, AccessClaims] = TTLCache(
            maxsize=VERIFIED_TOKENS, ttl=VERIFIED_SECONDS
        )

    def decode(self, token: str) -> AccessClaims:
        claims = self._claims.get(token)
        if claims is not None and claims.expires_at > datetime.now(UTC):
            return claims
        claims = decode_access_token(self.settings, token)
        self._claims[token] = claims
        return claims


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """SHA-256 is enough here: the token has 256 random bits, nothing to brute-force."""
    return hashlib.sha256(token.encode(errors="replace")).hexdigest()
