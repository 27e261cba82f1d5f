"""Search folds case and accents on both sides and forgives a letter; filters refuse what
cannot match (a feature outside its range, a genre no song has), naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from madhur_gql.services.catalog.fuzzy import ArtistMatcher
from tests.conftest import GraphQLClient, error_codes

SONGS = """
query($search: String, $filter: SongFilter) {
  songs(first: 50, search: $search, filter: $filter) { totalCount edges { node { title artist } } }
}
"""
RELEASES = """
query($filter: SongFilter) {
  songs(first: 100, filter: $filter) { totalCount edges { node { versions { id } } } }
}
"""
ARTISTS = "query($search: String) { artists(first: 10, search: $search) { totalCount edges { node { name } } } }"


async def artists_found(client: GraphQLClient, search: str) -> set[str]:
    page = (await client.data(SONGS, {"search": search}))["songs"]
    return {edge["node"]["artist"] for edge in page["edges"]}


async def count(client: GraphQLClient, search: str) -> int:
    total: int = (await client.data(SONGS, {"search": search}))["songs"]["totalCount"]
    return total


@pytest.mark.parametrize(
    ("typed", "artist"),
    [
        ("motley crue", "Mötley Crüe"),  # accents folded in the catalog
        ("MÖTLEY CRÜE", "Mötley Crüe"),  # and in the term
        ("janelle monae", "Janelle Monáe"),
        ("Janelle  Monáe", "Janelle Monáe"),
        ("eric benet", "Eric Benét"),
    ],
)
async def test_case_and_accents_do_not_matter(
    client: GraphQLClient, typed: str, artist: str
) -> None:
    assert await artists_found(client, typed) == {artist}
    assert await count(client, typed) == await count(client, artist)


@pytest.mark.parametrize(
    ("typed", "artist"),
    [
        ("ed sheran", "Ed Sheeran"),  # a letter missing
        ("sheeren", "Ed Sheeran"),  # one word of the name, a letter wrong
        ("coldpaly", "Coldplay"),  # two letters swapped: one edit
        ("billie elish", "Billie Eilish"),
        ("martn garix", "Martin Garrix"),  # two letters missing: allowed from 8 letters
        ("kendrik lamar", "Kendrick Lamar"),
    ],
)
async def test_a_misspelt_artist_is_still_found(
    client: GraphQLClient, typed: str, artist: str
) -> None:
    found = await artists_found(client, typed)
    assert found == {artist}
    by_artist = (await client.data(RELEASES, {"filter": {"artist": artist}}))["songs"]
    assert by_artist["totalCount"] == len(by_artist["edges"])
    # all their songs, each recording once (a group of n releases lists n - 1 versions on each)
    recordings = sum(1 / (1 + len(e["node"]["versions"])) for e in by_artist["edges"])
    assert await count(client, typed) == round(recordings)
    artists = (await client.data(ARTISTS, {"search": typed}))["artists"]["edges"]
    assert [edge["node"]["name"] for edge in artists] == [artist]


async def test_an_exact_match_is_not_diluted_by_near_names(client: GraphQLClient) -> None:
    # "queen" is a substring of titles and the artist Queen; no fuzzy neighbours are added.
    exact = (await client.data(SONGS, {"search": "queen"}))["songs"]["edges"]
    assert all("queen" in (e["node"]["title"] + e["node"]["artist"]).lower() for e in exact)


async def test_a_short_or_far_term_finds_nothing(client: GraphQLClient) -> None:
    assert await count(client, "qxz") == 0
    assert await count(client, "zzzzzzzz") == 0


def test_the_matcher_reaches_one_letter_below_eight_and_two_from_eight() -> None:
    matcher = ArtistMatcher(["drake", "the weeknd", "martin garrix"])
    assert matcher.near("drak") == {"drake"}
    assert matcher.near("weeknd") == {"the weeknd"}
    assert matcher.near("wekend") == {"the weeknd"}
    assert matcher.near("marten garix") == {"martin garrix"}
    assert matcher.near("dr") == set()  # too short to guess
    assert matcher.near("dxakf") == set()  # two off, but only five letters


async def refused(client: GraphQLClient, song_filter: dict[str, Any]) -> dict[str, Any]:
    body = await client.execute(SONGS, {"filter": song_filter})
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["data"] is None
    error: dict[str, Any] = body["errors"][0]
    return error


@pytest.mark.parametrize(
    ("song_filter", "field"),
    [
        ({"energy": {"min": 60}}, "filter.energy.min"),  # a percentage where 0..1 is meant
        ({"valence": {"max": -0.1}}, "filter.valence.max"),
        ({"tempo": {"max": 400}}, "filter.tempo.max"),
        ({"danceability": {"min": 0.8, "max": 0.2}}, "filter.danceability"),
    ],
)
async def test_an_out_of_range_filter_is_refused_naming_the_field(
    client: GraphQLClient, song_filter: dict[str, Any], field: str
) -> None:
    error = await refused(client, song_filter)
    assert error["extensions"]["field"] == field
    assert field in error["message"] or "min above max" in error["message"]


async def test_the_full_range_is_accepted(client: GraphQLClient) -> None:
    everything = await client.data(SONGS, {"filter": {"energy": {"min": 0, "max": 1}}})
    assert everything["songs"]["totalCount"] == await count(client, "")


async def test_an_unknown_genre_is_refused_with_the_nearest_one(client: GraphQLClient) -> None:
    error = await refused(client, {"genre": "rokc"})
    assert error["extensions"]["field"] == "filter.genre"
    assert "Did you mean 'rock'?" in error["message"]
    error = await refused(client, {"genre": "polka-step"})
    assert "Did you mean" not in error["message"] and "genres" in error["message"]
    known = (await client.data(SONGS, {"filter": {"genre": "Rock"}}))["songs"]["totalCount"]
    assert known > 0  # a known genre in another case still works


async def test_similar_songs_names_its_song_id_argument(client: GraphQLClient) -> None:
    body = await client.execute('{ similarSongs(songId: "not-an-id") { score } }')
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "songId"
