"""`madhur-gql create-admin`: the first administrator, without the password ever being an
argument (shell history, `ps`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import bcrypt
import pytest
from pymongo import MongoClient
from typer.testing import CliRunner

from madhur_gql.cli import app
from madhur_gql.config import get_settings
from madhur_gql.db.embedded import EmbeddedMongo
from tests.conftest import TEST_SECRET

ADMIN_PASSWORD = "an admin passphrase"


@pytest.fixture
def database(mongo_server: EmbeddedMongo, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"t_cli_{uuid.uuid4().hex[:8]}"
    for key, value in {
        "MONGODB_URI": mongo_server.uri,
        "MADHUR_DB_NAME": name,
        "MADHUR_BCRYPT_ROUNDS": "4",
        "MADHUR_JWT_SECRET": TEST_SECRET,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MADHUR_ADMIN_PASSWORD", raising=False)
    # The CLI configures logging onto CliRunner's stderr, which is closed after each run:
    # every later log line in the session would fail ("I/O operation on closed file").
    monkeypatch.setattr("madhur_gql.cli.configure_logging", lambda *args, **kwargs: None)
    get_settings.cache_clear()
    yield name
    get_settings.cache_clear()


def _user(uri: str, database: str, email: str) -> dict[str, object] | None:
    with MongoClient(uri) as client:
        found: dict[str, object] | None = client[database]["users"].find_one({"email": email})
        return found


def test_password_from_the_environment(
    database: str, mongo_server: EmbeddedMongo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MADHUR_ADMIN_PASSWORD", ADMIN_PASSWORD)
    result = CliRunner().invoke(app, ["create-admin", "--email", "Root@Example.com"])
    assert result.exit_code == 0, result.output
    assert ADMIN_PASSWORD not in result.output
    user = _user(mongo_server.uri, database, "root@example.com")
    assert user is not None and user["role"] == "ADMIN"
    assert bcrypt.checkpw(ADMIN_PASSWORD.encode(), str(user["password_hash"]).encode())

    again = CliRunner().invoke(app, ["create-admin", "--email", "root@example.com"])
    assert again.exit_code == 1 and "already exists" in again.output


def test_password_from_a_hidden_prompt_asked_twice(
    database: str, mongo_server: EmbeddedMongo
) -> None:
    mismatch = CliRunner().invoke(
        app,
        ["create-admin", "--email", "a@example.com"],
        input=f"{ADMIN_PASSWORD}\nsomething else\n{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )
    assert mismatch.exit_code == 0, mismatch.output
    assert ADMIN_PASSWORD not in mismatch.output  # hidden input is not echoed
    assert _user(mongo_server.uri, database, "a@example.com") is not None


def test_password_is_never_an_argument(database: str) -> None:
    result = CliRunner().invoke(
        app, ["create-admin", "--email", "b@example.com", "--password", ADMIN_PASSWORD]
    )
    assert result.exit_code == 2  # no such option


def test_weak_password_is_refused(
    database: str, mongo_server: EmbeddedMongo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MADHUR_ADMIN_PASSWORD", "password123")
    result = CliRunner().invoke(app, ["create-admin", "--email", "c@example.com"])
    assert result.exit_code == 1 and "too common" in result.output
    assert _user(mongo_server.uri, database, "c@example.com") is None
