"""Radio cursors: the whole station state round-trips; anything forged is BAD_USER_INPUT."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.station_cursor import decode_station, encode_station
from madhur_gql.recommender.feedback import EARLY_SKIP_WEIGHT, LATE_SKIP_WEIGHT, skip_weight
from madhur_gql.services.recommendations.radio import StationState


def played(count: int, seed: str = "genre:rock") -> StationState:
    state = StationState(seed)
    for i in range(count):
        state = state.after(f"song-{i}", i % 7)
    return state


def test_a_state_round_trips_with_every_song_played_and_the_last_artists() -> None:
    state = played(600)
    back = decode_station(encode_station(state), "genre:rock")
    assert back.served == 600
    assert back.recent_artists == state.recent_artists and len(back.recent_artists) == 9
    assert all(f"song-{i}" in back.played for i in range(600))
    assert len(encode_station(state)) < 1200  # characters, after 600 songs


def test_a_cursor_resumes_only_its_own_station() -> None:
    with pytest.raises(BadUserInput) as caught:
        decode_station(encode_station(played(3)), "genre:pop")
    assert caught.value.extensions["field"] == "after"


def _forge(body: bytes) -> str:
    return base64.urlsafe_b64encode(zlib.compress(body)).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        _forge(b"R1"),
        # a well-formed head with a truncated filter (the Bloom library would panic on it)
        _forge(struct.pack(">2s8sIB", b"R1", b"\0" * 8, 1, 0) + b"\x04"),
        # a forged hash count of 2**40 (every lookup would take forever)
        _forge(struct.pack(">2s8sIB", b"R1", b"\0" * 8, 1, 0) + (2**40).to_bytes(8, "little")),
        _forge(b"\0" * 100_000),  # decompresses past the limit
        "A" * 10_000,
    ],
)
def test_forged_cursors_are_refused_as_bad_input(cursor: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        decode_station(cursor, "genre:rock")
    assert caught.value.extensions["field"] == "after"


def test_a_skip_weighs_less_the_later_it_comes() -> None:
    weights = [skip_weight(s) for s in (0, 3, 10, 30, 120)]
    assert weights[0] == EARLY_SKIP_WEIGHT
    assert weights == sorted(weights)  # -3.0 first, rising towards the late-skip weight
    assert LATE_SKIP_WEIGHT > weights[-1] > LATE_SKIP_WEIGHT - 0.01
