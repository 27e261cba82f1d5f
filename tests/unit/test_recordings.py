"""Which releases are one recording: version marks go, other recordings keep their own key."""

from __future__ import annotations

import pytest

from madhur_gql.domain.recordings import canonical_versions, primary_artist, recording_key


@pytest.mark.parametrize(
    "release",
    [
        "Get Lucky - Radio Edit",
        "Get Lucky (feat. Pharrell Williams & Nile Rodgers)",
        "Get Lucky (Radio Edit) [feat. Pharrell Williams]",
        "GET LUCKY - Remastered 2013",
        "Get Lucky - Single Version",
        "Get Lucky feat. Pharrell Williams",
    ],
)
def test_a_radio_edit_a_remaster_and_a_featured_credit_are_the_same_recording(
    release: str,
) -> None:
    assert recording_key(release, "Daft Punk") == recording_key("Get Lucky", "Daft Punk")


@pytest.mark.parametrize(
    "other",
    [
        "Get Lucky - Live",
        "Get Lucky (Acoustic Version)",
        "Get Lucky - Remix",
        "Get Lucky (Instrumental)",
        "Get Luckier",
    ],
)
def test_a_live_take_a_remix_or_an_acoustic_version_is_another_recording(other: str) -> None:
    assert recording_key(other, "Daft Punk") != recording_key("Get Lucky", "Daft Punk")


def test_the_primary_artist_decides_and_another_artists_song_of_that_title_stays_apart() -> None:
    assert primary_artist("Daft Punk, Pharrell Williams") == "daft punk"
    assert primary_artist("Beyoncé & JAY-Z") == "beyonce"
    assert recording_key("Shape of You", "Ed Sheeran") != recording_key("Shape of You", "Eza")


def test_the_canonical_version_is_the_most_popular_then_the_smallest_id() -> None:
    keys = ["a", "a", "b", "a"]
    assert canonical_versions(keys, [10, 50, 5, 50], ["x3", "x2", "x9", "x1"]) == [3, 3, 2, 3]
