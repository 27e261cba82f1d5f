"""Spotify tests point spotipy at a local fake; nothing here may reach an outside host."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from madhur_gql.config import Settings
from madhur_gql.db.connection import Database, open_database
from madhur_gql.db.embedded import EmbeddedMongo
from madhur_gql.documents import AudioFeatures
from tests.conftest import make_settings
from tests.spotify.fake_spotify import FakeSpotify

# Real credentials in a developer's environment must never make a test call Spotify: the
# tests that want Spotify set SPOTIFY_* explicitly, pointing at the local fake.
for _name in [name for name in os.environ if name.startswith(("SPOTIFY_", "SPOTIPY_"))]:
    del os.environ[_name]


@pytest.fixture
def fake_spotify() -> Iterator[FakeSpotify]:
    fake = FakeSpotify().start()
    yield fake
    fake.stop()


def spotify_settings(
    mongo_server: EmbeddedMongo, database: str, fake: FakeSpotify, **extra: Any
) -> Settings:
    return make_settings(mongo_server.uri, database, **fake.settings_overrides(**extra))


@pytest.fixture(scope="module")
async def database(settings: Settings) -> AsyncIterator[Database]:
    """Beanie bound to this module's fresh database (no app, no catalog)."""
    async with open_database(settings) as db:
        yield db


# Any valid features: the Spotify tests care about track ids and names, not sound.
FEATURES = AudioFeatures(
    danceability=0.5,
    energy=0.5,
    valence=0.5,
    tempo=120,
    acousticness=0.1,
    instrumentalness=0.0,
    speechiness=0.05,
    liveness=0.1,
    loudness=-6,
    key=0,
    mode=1,
)
