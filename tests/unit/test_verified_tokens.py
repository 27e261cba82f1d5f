"""Verified access tokens are remembered, but never past their expiry, and forgeries never."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from madhur_gql.auth.tokens import ALGORITHM, VerifiedTokens, issue_access_token
from madhur_gql.errors import Unauthenticated
from tests.conftest import make_settings

SETTINGS = make_settings("mongodb://127.0.0.1:1", "unused")


def token_expiring(at: datetime, secret: str = SETTINGS.jwt_secret) -> str:
    claims = {
        "sub": str(uuid.uuid4()),
        "role": "USER",
        "iat": at - timedelta(minutes=5),
        "nbf": at - timedelta(minutes=5),
        "exp": at,
        "jti": uuid.uuid4().hex,
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "typ": "access",
        "ver": 0,
        "sid": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"typ": "at+jwt"})


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    tokens = VerifiedTokens(SETTINGS)
    # Expired 3 s ago: still inside the 5 s leeway for clock skew, so it verifies.
    token = token_expiring(datetime.now(UTC) - timedelta(seconds=3))
    assert tokens.decode(token).version == 0
    time.sleep(2.5)  # now past the leeway: remembered or not, it must be refused
    with pytest.raises(Unauthenticated):
        tokens.decode(token)


def test_a_live_token_is_remembered_and_a_forgery_is_never_accepted() -> None:
    tokens = VerifiedTokens(SETTINGS)
    good = issue_access_token(SETTINGS, "u1", "USER", session_id="s1")
    assert tokens.decode(good) is tokens.decode(good)  # verified once
    forged = token_expiring(datetime.now(UTC) + timedelta(minutes=5), secret="x" * 48)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            tokens.decode(forged)
