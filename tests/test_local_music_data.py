"""Local music data: a song's language and country, a listener's preferred languages and country.

The generated songs stand in for a local catalog; the demo catalog's real songs know neither
their language nor their country, and Madhur never guesses one.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import pandas as pd
import pytest
from bson import ObjectId

from madhur_gql.documents import Role, Song, User
from madhur_gql.services.catalog.importer import import_songs
from tests.conftest import GraphQLClient, error_codes, register_user

UNIT = ("danceability", "energy", "valence", "acousticness", "instrumentalness", "speechiness")
SONGS = """query($f: SongFilter, $n: Int) { songs(first: $n, filter: $f) {
  totalCount edges { node { id title language country } } } }"""
RECS = """query($language: String, $country: String, $n: Int) {
  recommendations(first: $n, language: $language, country: $country) {
    song { id language country } } }"""
ME = "{ me { preferredLanguages country } }"
UPDATE_ME = """mutation($i: UpdateMeInput!) { updateMe(input: $i) {
  preferredLanguages country displayName } }"""
CREATE_SONG = """mutation($i: SongInput!) { createSong(input: $i) { id language country } }"""
UPDATE_SONG = """mutation($id: ID!, $i: SongUpdateInput!) {
  updateSong(id: $id, input: $i) { id language country } }"""
AUDIO = {"danceability": 0.5, "energy": 0.5, "valence": 0.5, "tempo": 110, "acousticness": 0.4}


def generated_rows(count: int, language: str | None, country: str | None) -> list[dict[str, Any]]:
    rng = random.Random(f"{language}{country}{count}")
    rows = []
    for i in range(count):
        rows.append(
            {
                "track_id": "gen" + uuid.uuid4().hex,
                "track_name": f"Generated {language or 'none'} {i}",
                "track_artist": f"Generated Artist {language or 'none'} {i % 7}",
                "track_popularity": rng.randint(30, 90),
                "playlist_genre": "pop",
                **{name: round(rng.random(), 3) for name in UNIT},
                "liveness": 0.1,
                "tempo": rng.uniform(70, 170),
                "loudness": -7.0,
                "key": rng.randint(0, 11),
                "mode": 1,
                "duration_ms": 200_000,
                "language": language,
                "country": country,
            }
        )
    return rows


@pytest.fixture(scope="module")
async def local_catalog(client: GraphQLClient, tmp_path_factory: pytest.TempPathFactory) -> int:
    """Imports 24 Nepali songs (one written `NE`/`np`), 6 Hindi from India, 3 bad rows."""
    nepali = generated_rows(24, "ne", "NP")
    nepali[0]["language"], nepali[0]["country"] = "NE", "np"  # case is normalised
    hindi = generated_rows(6, "hi", "IN")
    bad = [
        {**generated_rows(1, "xx", "NP")[0]},  # not an ISO 639-1 code
        {**generated_rows(1, "nep", "NP")[0]},  # ISO 639-3: two letters are asked for
        {**generated_rows(1, "ne", "ZZ")[0]},  # not an ISO 3166-1 country
    ]
    path = tmp_path_factory.mktemp("local") / "local.csv"
    pd.DataFrame([*nepali, *hindi, *bad]).to_csv(path, index=False)
    report = await import_songs(path)
    reasons = sorted(row.reason for row in report.rejected)
    assert report.inserted == 30, report
    assert len(reasons) == 3
    assert sum("language" in reason for reason in reasons) == 2, reasons
    assert sum("country" in reason for reason in reasons) == 1, reasons
    for _ in range(100):  # the server follows the import through the change stream
        page = await client.data(SONGS, {"f": {"language": "ne"}, "n": 1})
        if page["songs"]["totalCount"] == 24:
            break
        await asyncio.sleep(0.1)
    return 24


async def as_admin(client: GraphQLClient) -> str:
    payload = await register_user(client)
    await User.get_pymongo_collection().update_one(
        {"_id": ObjectId(payload["user"]["id"])}, {"$set": {"role": Role.ADMIN.value}}
    )
    token: str = payload["accessToken"]
    return token


async def test_imported_songs_carry_language_and_country_and_filter_on_them(
    client: GraphQLClient, local_catalog: int
) -> None:
    nepali = await client.data(SONGS, {"f": {"language": "ne"}, "n": 50})
    assert nepali["songs"]["totalCount"] == local_catalog
    nodes = [edge["node"] for edge in nepali["songs"]["edges"]]
    assert {(n["language"], n["country"]) for n in nodes} == {("ne", "NP")}
    india = await client.data(SONGS, {"f": {"country": "IN"}, "n": 50})
    assert india["songs"]["totalCount"] == 6
    assert {edge["node"]["language"] for edge in india["songs"]["edges"]} == {"hi"}
    both = await client.data(SONGS, {"f": {"country": "np", "language": "HI"}, "n": 5})
    assert both["songs"]["totalCount"] == 0
    # The filters combine with the others.
    genre = await client.data(SONGS, {"f": {"language": "ne", "genre": "rock"}, "n": 5})
    assert genre["songs"]["totalCount"] == 0


async def test_the_demo_catalogs_real_songs_have_no_language(
    client: GraphQLClient, local_catalog: int
) -> None:
    page = await client.data(
        """{ songs(first: 20, search: "ed sheeran") { edges { node { language country } } } }"""
    )
    nodes = [edge["node"] for edge in page["songs"]["edges"]]
    assert nodes
    assert all(n["language"] is None and n["country"] is None for n in nodes)
    stored = await Song.get_pymongo_collection().count_documents({"language": {"$ne": None}})
    assert stored == 30  # only the generated ones


async def test_bad_filter_codes_name_the_field(client: GraphQLClient, local_catalog: int) -> None:
    for song_filter, field in (
        ({"language": "xx"}, "language"),
        ({"language": "english"}, "language"),
        ({"country": "XX"}, "country"),
        ({"country": "NPL"}, "country"),
    ):
        body = await client.execute(SONGS, {"f": song_filter, "n": 1})
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == field


async def test_recommendations_filter_on_language_and_country(
    client: GraphQLClient, local_catalog: int
) -> None:
    token = (await register_user(client))["accessToken"]
    for variables, wanted in (
        ({"language": "ne"}, ("ne", "NP")),
        ({"country": "IN"}, ("hi", "IN")),
    ):
        body = await client.execute(RECS, {**variables, "n": 10}, token=token)
        assert not body.get("errors"), body
        picks = body["data"]["recommendations"]
        assert picks
        assert {(p["song"]["language"], p["song"]["country"]) for p in picks} == {wanted}
    body = await client.execute(RECS, {"language": "zz"}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "language"


async def test_a_listener_sets_preferred_languages_and_country(client: GraphQLClient) -> None:
    payload = await register_user(client)
    token = payload["accessToken"]
    assert (await client.execute(ME, token=token))["data"]["me"] == {
        "preferredLanguages": [],
        "country": None,
    }
    body = await client.execute(
        UPDATE_ME, {"i": {"preferredLanguages": ["NE", "en", "ne"], "country": "np"}}, token=token
    )
    assert not body.get("errors"), body
    assert body["data"]["updateMe"]["preferredLanguages"] == ["ne", "en"]
    assert body["data"]["updateMe"]["country"] == "NP"
    # Other fields leave them as they are; an empty country clears it.
    body = await client.execute(UPDATE_ME, {"i": {"displayName": "Asha K"}}, token=token)
    assert body["data"]["updateMe"]["preferredLanguages"] == ["ne", "en"]
    body = await client.execute(UPDATE_ME, {"i": {"country": ""}}, token=token)
    assert body["data"]["updateMe"]["country"] is None
    stored = await User.get_pymongo_collection().find_one({"_id": ObjectId(payload["user"]["id"])})
    assert stored is not None
    assert stored["preferred_languages"] == ["ne", "en"]
    assert stored["country"] is None


async def test_bad_listener_codes_are_refused_naming_the_field(client: GraphQLClient) -> None:
    token = (await register_user(client))["accessToken"]
    for change, field in (
        ({"preferredLanguages": ["ne", "xx"]}, "preferredLanguages"),
        ({"preferredLanguages": ["nep"]}, "preferredLanguages"),
        ({"preferredLanguages": ["en", "ne", "hi", "fr", "es", "de"]}, "preferredLanguages"),
        ({"country": "Nepal"}, "country"),
        ({"country": "ZZ"}, "country"),
    ):
        body = await client.execute(UPDATE_ME, {"i": change}, token=token)
        assert error_codes(body) == ["BAD_USER_INPUT"], (change, body)
        assert body["errors"][0]["extensions"]["field"] == field
    assert (await client.execute(ME, token=token))["data"]["me"] == {
        "preferredLanguages": [],
        "country": None,
    }


async def test_admins_set_and_clear_a_songs_language_and_country(client: GraphQLClient) -> None:
    admin = await as_admin(client)
    song_input = {
        "trackId": "local" + uuid.uuid4().hex[:10],
        "title": "Resham Firiri (generated)",
        "artist": "Generated Folk Ensemble",
        "audioFeatures": AUDIO,
        "language": "NE",
        "country": "np",
    }
    body = await client.execute(CREATE_SONG, {"i": song_input}, token=admin)
    assert not body.get("errors"), body
    created = body["data"]["createSong"]
    assert (created["language"], created["country"]) == ("ne", "NP")
    stored = await Song.get_pymongo_collection().find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert (stored["language"], stored["country"]) == ("ne", "NP")

    body = await client.execute(
        UPDATE_SONG, {"id": created["id"], "i": {"language": "hi"}}, token=admin
    )
    assert (body["data"]["updateSong"]["language"], body["data"]["updateSong"]["country"]) == (
        "hi",
        "NP",
    )
    body = await client.execute(
        UPDATE_SONG, {"id": created["id"], "i": {"language": "", "country": ""}}, token=admin
    )
    assert body["data"]["updateSong"]["language"] is None
    assert body["data"]["updateSong"]["country"] is None

    for change, field in (({"language": "xx"}, "language"), ({"country": "QQ"}, "country")):
        body = await client.execute(UPDATE_SONG, {"id": created["id"], "i": change}, token=admin)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == field
        bad_create = {**song_input, "trackId": "local" + uuid.uuid4().hex[:10], **change}
        body = await client.execute(CREATE_SONG, {"i": bad_create}, token=admin)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == field
