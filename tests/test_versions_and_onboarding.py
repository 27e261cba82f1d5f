"""One song, one entry; onboarding choices that keep steering, on generated songs.

The catalog is generated (tests/catalogs.py) plus one recording released four times: the album
take (in playlists), its radio edit and a "feat." release (in none), and a live take, which is
another recording. Search, recommendations and similar songs show the recording once; the
other releases are `Song.versions`; liking the radio edit counts for the song.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from madhur_gql.config import Settings
from madhur_gql.db.embedded import EmbeddedMongo
from tests.catalogs import GeneratedSong, generate, write_csv
from tests.conftest import GraphQLClient, LiveServer, make_settings, new_listener, picks_of

TITLE = "Lucky Star Tonight"
RELEASES = {  # title -> (popularity, playlists kept)
    TITLE: (80, True),
    f"{TITLE} - Radio Edit": (60, False),
    f"{TITLE} (feat. Generated Guest)": (40, False),
    f"{TITLE} - Live": (30, False),
}
SAME_RECORDING = {TITLE, f"{TITLE} - Radio Edit", f"{TITLE} (feat. Generated Guest)"}

SONG = "id title artist genres versions { id title } audioFeatures { valence energy }"
SEARCH = f"""query($s: String!) {{ songs(first: 20, search: $s) {{ totalCount
  edges {{ node {{ {SONG} }} }} }} }}"""
RECS = f"""query($first: Int, $mood: Mood) {{ recommendations(first: $first, mood: $mood) {{
  score source reasons song {{ {SONG} }} }} }}"""
SIMILAR = f"query($id: ID!) {{ similarSongs(songId: $id, first: 50) {{ song {{ {SONG} }} }} }}"
RECORD = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"
BY_GENRE = """query($g: String!, $n: Int!) { songs(first: $n, filter: {genre: $g}) {
  edges { node { id } } } }"""


def releases(songs: list[GeneratedSong]) -> list[GeneratedSong]:
    """Four releases of one generated rock song."""
    base = next(s for s in songs if s.genre == "rock" and s.playlists)
    out = []
    for n, (title, (popularity, playlists)) in enumerate(RELEASES.items()):
        out.append(
            dataclasses.replace(
                base,
                track_id=f"rel{n:019d}",
                title=title,
                popularity=popularity,
                playlists=list(base.playlists) if playlists else [],
                features=dict(base.features),
            )
        )
    base.playlists = []  # the generated original stays, under its own title, in no playlist
    return out


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    songs = generate(
        ("rock", "pop", "edm", "jazz", "hip hop"),
        120,
        songs_per_artist=6,
        playlists_per_genre=60,
        playlist_size=30,  # dense enough for links three playlists stand behind
    )
    songs += releases(songs)
    return write_csv(songs, Path(tmp_path_factory.mktemp("versions")) / "versions.csv")


@pytest.fixture(scope="module")
def settings(mongo_server: EmbeddedMongo, database_name: str, catalog_file: Path) -> Settings:
    return make_settings(mongo_server.uri, database_name, MADHUR_CATALOG_FILE=str(catalog_file))


async def run(client: GraphQLClient, query: str, token: str | None = None, **v: Any) -> Any:
    body = await client.execute(query, v, token=token)
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def record(client: GraphQLClient, token: str, song_id: str, kind: str) -> None:
    await run(client, RECORD, token, i={"songId": song_id, "kind": kind})


async def search(client: GraphQLClient, text: str) -> list[dict[str, Any]]:
    data = await run(client, SEARCH, s=text)
    return [edge["node"] for edge in data["songs"]["edges"]]


async def recs(client: GraphQLClient, token: str, **variables: Any) -> list[dict[str, Any]]:
    return await picks_of(client, RECS, token, **variables)


def recording_titles(songs: list[dict[str, Any]]) -> list[str]:
    return [s["title"] for s in songs if s["title"] in SAME_RECORDING]


# --------------------------------------------------------------------------------- versions
async def test_search_shows_one_recording_once_with_its_other_releases_as_versions(
    client: GraphQLClient,
) -> None:
    found = await search(client, "lucky star tonight")
    titles = [s["title"] for s in found]
    assert titles.count(TITLE) == 1 and recording_titles(found) == [TITLE], titles
    assert f"{TITLE} - Live" in titles, "a live take is another recording"
    song = next(s for s in found if s["title"] == TITLE)
    assert {v["title"] for v in song["versions"]} == SAME_RECORDING - {TITLE}
    live = next(s for s in found if s["title"] == f"{TITLE} - Live")
    assert live["versions"] == []
    # searching a version's own words finds the recording's canonical entry
    edits = await search(client, "radio edit")
    assert [s["title"] for s in edits] == [TITLE]


async def test_liking_the_radio_edit_counts_for_the_song_and_never_brings_a_version_back(
    client: GraphQLClient,
) -> None:
    token = await new_listener(client)
    edit = next(
        v
        for s in await search(client, "lucky star tonight")
        for v in s["versions"]
        if v["title"].endswith("Radio Edit")
    )
    await record(client, token, edit["id"], "LIKE")
    picks = await recs(client, token)
    assert picks
    assert not recording_titles([p["song"] for p in picks]), "the song itself came back"
    # the radio edit is in no playlist: only the album take's playlists can link the picks
    collaborative = [p for p in picks if p["source"] == "COLLABORATIVE"]
    assert collaborative, [p["reasons"] for p in picks]
    assert all(
        p["reasons"][0].startswith(f"Often in the same playlists as {TITLE} by")
        for p in collaborative
    )


async def test_similar_songs_and_recommendations_hold_one_entry_per_recording(
    client: GraphQLClient,
) -> None:
    found = await search(client, "lucky star tonight")
    song = next(s for s in found if s["title"] == TITLE)
    similar = [
        p["song"]
        for p in (await run(client, SIMILAR, id=song["versions"][0]["id"]))["similarSongs"]
    ]
    assert similar
    assert not recording_titles(similar), "a version is not a song like itself"
    token = await new_listener(client, favouriteGenres=["rock"])
    picks = [p["song"] for p in await recs(client, token, first=50)]
    assert len(recording_titles(picks)) <= 1


async def test_popular_picks_before_the_first_build_hold_one_entry_per_recording(
    client: GraphQLClient, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The popular fallback (a fresh start, no engine yet) lists the album take only."""
    monkeypatch.setattr(live_server.app.state.services.recommendations, "_engine", None)
    token = await new_listener(client)
    picks = await recs(client, token, first=100)
    assert {p["source"] for p in picks} == {"POPULAR"}
    assert recording_titles([p["song"] for p in picks]) == [TITLE]


# ------------------------------------------------------------------------------- onboarding
async def test_a_listener_who_liked_and_unliked_one_song_still_gets_their_favourite_genre(
    client: GraphQLClient,
) -> None:
    token = await new_listener(client, favouriteGenres=["rock"])
    pop = (await run(client, BY_GENRE, g="pop", n=1))["songs"]["edges"][0]["node"]["id"]
    await record(client, token, pop, "LIKE")
    await record(client, token, pop, "UNLIKE")
    picks = await recs(client, token)
    rock = [p for p in picks if "rock" in p["song"]["genres"]]
    assert len(rock) >= 16, [(p["song"]["genres"], p["reasons"]) for p in picks]
    assert not any(r.startswith("Popular in pop") for p in picks for r in p["reasons"])
    assert any("From your favourite genre: rock" in p["reasons"] for p in picks)


async def test_every_favourite_mood_steers_a_new_listener(client: GraphQLClient) -> None:
    token = await new_listener(client, favouriteMoods=["CALM", "ENERGETIC"])
    reasons = [r for p in await recs(client, token) for r in p["reasons"]]
    for mood in ("calm", "energetic"):
        assert any(mood in r.lower() for r in reasons), (mood, reasons)


async def test_favourite_genres_fade_as_the_history_grows(client: GraphQLClient) -> None:
    token = await new_listener(client, favouriteGenres=["jazz"])
    edm = [e["node"]["id"] for e in (await run(client, BY_GENRE, g="edm", n=30))["songs"]["edges"]]
    shares = []
    for stage in (2, 6, 12):
        for song in edm[:stage]:
            await record(client, token, song, "LIKE")
        picks = await recs(client, token)
        shares.append(sum("jazz" in p["song"]["genres"] for p in picks) / len(picks))
    assert shares[0] > shares[1] > 0, shares
    assert shares[2] == 0, "a grown history speaks for itself"
