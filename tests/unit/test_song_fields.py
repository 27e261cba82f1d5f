"""The one table of song fields: every consumer agrees with it, and the demo catalog fits it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from madhur_gql.documents import AudioFeatures
from madhur_gql.domain.song_fields import (
    AUDIO,
    AUDIO_FIELDS,
    CONTINUOUS_FEATURES,
    FILTER_FEATURES,
    is_release_date,
    name_key,
    normalise_genres,
)
from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.admin import AudioFeaturesInput
from madhur_gql.graphql.types import AudioFeatures as AudioFeaturesType
from madhur_gql.recommender.features import FEATURE_NAMES
from madhur_gql.services.catalog.admin import validated
from madhur_gql.services.catalog.import_rows import validate_chunk

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "spotify_songs.csv.gz"


def test_every_layer_names_the_same_audio_fields_in_the_same_order() -> None:
    names = [field.name for field in AUDIO_FIELDS]
    assert list(AudioFeatures.model_fields) == names
    assert list(AudioFeaturesType.__annotations__) == names
    assert set(AudioFeaturesInput.__annotations__) == set(names)
    assert CONTINUOUS_FEATURES == FEATURE_NAMES  # the recommender's feature list
    assert set(FILTER_FEATURES) <= set(names)


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("tempo", 0.0, False),
        ("tempo", 0.1, True),
        ("tempo", 250.0, True),
        ("tempo", 400.0, False),
        ("loudness", -60.0, True),
        ("loudness", -80.0, False),
        ("loudness", 5.0, True),
        ("loudness", 5.5, False),
        ("energy", 1.0, True),
        ("energy", 1.01, False),
        ("key", -1, True),
        ("key", 12, False),
        ("key", 3.5, False),
        ("mode", 2, False),
    ],
)
def test_bounds(name: str, value: float, ok: bool) -> None:
    assert AUDIO[name].accepts(value) is ok


def _row(**audio: float) -> dict[str, object]:
    features = {f.name: 0.5 for f in AUDIO_FIELDS if f.high == 1.0 and not f.integer}
    return {
        "track_id": "t1",
        "track_name": "Title",
        "track_artist": "Artist",
        **features,
        "tempo": 120.0,
        "loudness": -8.0,
        "key": 1,
        "mode": 1,
        **audio,
    }


def _admin_accepts(**audio: float) -> bool:
    row = _row(**audio)
    changes = {"audio": {f.name: row[f.name] for f in AUDIO_FIELDS}}
    try:
        validated(changes)
    except BadUserInput:
        return False
    return True


@pytest.mark.parametrize(
    "audio",
    [{"tempo": 400.0}, {"loudness": -80.0}, {"tempo": 0.0}, {"danceability": 1.5}, {"key": 12}],
)
def test_import_and_admin_edit_refuse_the_same_values(audio: dict[str, float]) -> None:
    _, rejected = validate_chunk(pd.DataFrame([_row(**audio)]), first_line=2)
    assert len(rejected) == 1
    assert not _admin_accepts(**audio)


def test_import_and_admin_edit_accept_the_same_edge_values() -> None:
    edge = {"tempo": 250.0, "loudness": -60.0, "key": -1, "mode": 0}
    valid, rejected = validate_chunk(pd.DataFrame([_row(**edge)]), first_line=2)
    assert rejected == [] and len(valid) == 1
    assert _admin_accepts(**edge)


def test_the_demo_catalog_loses_no_row_to_the_bounds() -> None:
    """The rows refused before the table still are (5 without a title, 1 with tempo 0, no
    beat detected); no other row breaks a bound."""
    _, rejected = validate_chunk(pd.read_csv(DEMO, dtype={"track_id": "string"}), first_line=2)
    reasons = sorted(row.reason for row in rejected)
    assert reasons == ["missing title"] * 5 + ["tempo must be a number above 0"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [("2019", True), ("2019-06", True), ("2019-06-14", True), ("May 2019", False), ("19", False)],
)
def test_release_dates_may_be_partial(text: str, ok: bool) -> None:
    assert is_release_date(text) is ok


def test_one_rule_for_names_and_genres() -> None:
    assert name_key("  Hip \t Hop ") == "hip hop"
    assert normalise_genres(["Hip  Hop", "hip hop", " ", "Pop"]) == ["hip hop", "pop"]
