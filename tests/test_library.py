"""The library screens: favourites, playlists, artists, trending, admin edits, live imports."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from beanie import PydanticObjectId
from pymongo import monitoring

from madhur_gql.config import Settings
from madhur_gql.documents import Role, User
from tests.conftest import DATA, GraphQLClient, error_codes, register_user


class FindCounter(monitoring.CommandListener):
    """Counts `find` commands sent by any client: the database round trips of a page."""

    def __init__(self) -> None:
        self.finds = 0
        self.account_finds = 0  # the caller's account (the identity check, cached 0.5 s)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            if event.command.get("find") == User.Settings.name:
                self.account_finds += 1
            else:
                self.finds += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


FINDS = FindCounter()
monitoring.register(FINDS)  # before the module's app (and its client) is created

SONGS = """query($first: Int!, $search: String, $filter: SongFilter, $order: SongOrder) {
  songs(first: $first, search: $search, filter: $filter, order: $order) {
    totalCount edges { node { id title artist releaseDate likeCount playCount } } } }"""


async def song_ids(client: GraphQLClient, search: str, first: int = 5) -> list[str]:
    page = await client.data(SONGS, {"first": first, "search": search})
    return [edge["node"]["id"] for edge in page["songs"]["edges"]]


async def as_user(client: GraphQLClient) -> str:
    token: str = (await register_user(client))["accessToken"]
    return token


async def as_admin(client: GraphQLClient) -> str:
    payload = await register_user(client)
    await User.find_one(User.id == PydanticObjectId(payload["user"]["id"])).set(
        {User.role: Role.ADMIN}
    )
    token: str = payload["accessToken"]
    return token


async def run(client: GraphQLClient, token: str, query: str, **variables: Any) -> dict[str, Any]:
    return await client.execute(query, variables, token=token)


LIKE = "mutation($id: ID!) { like(songId: $id) { id likeCount likedByMe } }"
UNLIKE = "mutation($id: ID!) { unlike(songId: $id) { id likeCount likedByMe } }"


async def test_liking_twice_is_one_like(client: GraphQLClient) -> None:
    token = await as_user(client)
    song = (await song_ids(client, "coldplay"))[0]
    first = await run(client, token, LIKE, id=song)
    again = await run(client, token, LIKE, id=song)
    assert first["data"]["like"]["likeCount"] == again["data"]["like"]["likeCount"]
    assert again["data"]["like"]["likedByMe"] is True
    liked = await run(client, token, "{ myLikedSongs { totalCount edges { node { id } } } }")
    assert liked["data"]["myLikedSongs"]["totalCount"] == 1
    assert liked["data"]["myLikedSongs"]["edges"][0]["node"]["id"] == song

    gone = await run(client, token, UNLIKE, id=song)
    assert gone["data"]["unlike"]["likeCount"] == first["data"]["like"]["likeCount"] - 1
    again = await run(client, token, UNLIKE, id=song)
    assert again["data"]["unlike"]["likeCount"] == gone["data"]["unlike"]["likeCount"]
    assert again["data"]["unlike"]["likedByMe"] is False
    assert error_codes(await run(client, token, LIKE, id="0" * 24)) == ["NOT_FOUND"]


async def test_counters_stay_exact_under_concurrent_requests(client: GraphQLClient) -> None:
    song = (await song_ids(client, "bob marley"))[0]
    tokens = await asyncio.gather(*(as_user(client) for _ in range(12)))
    record = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"
    plays = [
        run(client, token, record, i={"songId": song, "kind": "PLAY"})
        for token in tokens
        for _ in range(4)
    ]
    likes = [run(client, token, LIKE, id=song) for token in tokens for _ in range(2)]
    results = await asyncio.gather(*plays, *likes)
    assert all(not body.get("errors") for body in results)
    node = await client.data(
        "query($id: ID!) { song(id: $id) { likeCount playCount } }", {"id": song}
    )
    assert node["song"] == {"likeCount": 12, "playCount": 48}
    trending = await client.data("{ trending(first: 1) { edges { node { id } } } }")
    assert trending["trending"]["edges"][0]["node"]["id"] == song
    popular = await client.data("{ popular(first: 1) { edges { node { id likeCount } } } }")
    assert popular["popular"]["edges"][0]["node"] == {"id": song, "likeCount": 12}


PLAYLIST_FIELDS = "id name public description songCount songs { id } owner { displayName }"


async def test_playlists_are_private_unless_public(client: GraphQLClient) -> None:
    owner, other = await as_user(client), await as_user(client)
    songs = await song_ids(client, "taylor swift", first=4)
    created = await run(
        client,
        owner,
        f"mutation($i: CreatePlaylistInput!) {{ createPlaylist(input: $i) {{ {PLAYLIST_FIELDS} }} }}",
        i={"name": "  Morning   walk ", "description": "for Phewa lake"},
    )
    playlist = created["data"]["createPlaylist"]
    assert playlist["name"] == "Morning walk" and playlist["public"] is False
    pid = playlist["id"]

    add = f"mutation($id: ID!, $s: [ID!]!, $p: Int) {{ addSongsToPlaylist(id: $id, songIds: $s, position: $p) {{ {PLAYLIST_FIELDS} }} }}"
    body = await run(client, owner, add, id=pid, s=songs[:3])
    assert [s["id"] for s in body["data"]["addSongsToPlaylist"]["songs"]] == songs[:3]
    body = await run(client, owner, add, id=pid, s=[songs[3]], p=0)
    assert [s["id"] for s in body["data"]["addSongsToPlaylist"]["songs"]] == [songs[3], *songs[:3]]

    move = f"mutation($id: ID!, $s: ID!, $p: Int!) {{ moveSongInPlaylist(id: $id, songId: $s, position: $p) {{ {PLAYLIST_FIELDS} }} }}"
    body = await run(client, owner, move, id=pid, s=songs[3], p=3)
    assert [s["id"] for s in body["data"]["moveSongInPlaylist"]["songs"]] == [*songs[:3], songs[3]]
    assert error_codes(await run(client, owner, move, id=pid, s=songs[3], p=9)) == [
        "BAD_USER_INPUT"
    ]

    remove = f"mutation($id: ID!, $s: [ID!]!) {{ removeSongsFromPlaylist(id: $id, songIds: $s) {{ {PLAYLIST_FIELDS} }} }}"
    body = await run(client, owner, remove, id=pid, s=[songs[0]])
    assert body["data"]["removeSongsFromPlaylist"]["songCount"] == 3

    read = f"query($id: ID!) {{ playlist(id: $id) {{ {PLAYLIST_FIELDS} }} }}"
    assert error_codes(await run(client, other, read, id=pid)) == ["NOT_FOUND"]
    assert error_codes(await client.execute(read, {"id": pid})) == ["NOT_FOUND"]
    assert error_codes(await run(client, other, add, id=pid, s=[songs[0]])) == ["NOT_FOUND"]
    update = "mutation($id: ID!, $i: UpdatePlaylistInput!) { updatePlaylist(id: $id, input: $i) { name public } }"
    assert error_codes(await run(client, other, update, id=pid, i={"public": True})) == [
        "NOT_FOUND"
    ]

    body = await run(client, owner, update, id=pid, i={"public": True, "name": "Lakeside"})
    assert body["data"]["updatePlaylist"] == {"name": "Lakeside", "public": True}
    seen = await run(client, other, read, id=pid)
    assert seen["data"]["playlist"]["owner"] == {"displayName": "Asha"}
    assert "email" not in str(seen)

    mine = await run(client, owner, "{ myPlaylists { totalCount edges { node { id } } } }")
    assert mine["data"]["myPlaylists"]["totalCount"] == 1
    delete = "mutation($id: ID!) { deletePlaylist(id: $id) }"
    assert error_codes(await run(client, other, delete, id=pid)) == ["NOT_FOUND"]
    assert (await run(client, owner, delete, id=pid))["data"]["deletePlaylist"] == pid
    assert error_codes(await run(client, owner, read, id=pid)) == ["NOT_FOUND"]


async def test_playlist_input_is_validated(client: GraphQLClient) -> None:
    token = await as_user(client)
    create = "mutation($i: CreatePlaylistInput!) { createPlaylist(input: $i) { id } }"
    assert error_codes(await run(client, token, create, i={"name": "  "})) == ["BAD_USER_INPUT"]
    assert error_codes(await run(client, token, create, i={"name": "x" * 101})) == [
        "BAD_USER_INPUT"
    ]
    pid = (await run(client, token, create, i={"name": "ok"}))["data"]["createPlaylist"]["id"]
    add = (
        "mutation($id: ID!, $s: [ID!]!) { addSongsToPlaylist(id: $id, songIds: $s) { songCount } }"
    )
    assert error_codes(await run(client, token, add, id=pid, s=["0" * 24])) == ["NOT_FOUND"]
    assert error_codes(await run(client, token, add, id=pid, s=[])) == ["BAD_USER_INPUT"]
    assert error_codes(await run(client, token, add, id=pid, s=["x"] * 101)) == ["BAD_USER_INPUT"]


async def test_artists_are_browsable(client: GraphQLClient) -> None:
    found = await client.data(
        '{ artists(first: 5, search: "queen") { totalCount edges { node { id name songCount } } } }'
    )
    queen = next(e["node"] for e in found["artists"]["edges"] if e["node"]["name"] == "Queen")
    detail = await client.data(
        "query($id: ID!) { artist(id: $id) { name songs(first: 100) { totalCount edges { node { artist } } } } }",
        {"id": queen["id"]},
    )
    songs = detail["artist"]["songs"]
    assert songs["totalCount"] == queen["songCount"] > 3
    assert {e["node"]["artist"] for e in songs["edges"]} == {"Queen"}
    by_filter = await client.data(SONGS, {"first": 1, "filter": {"artistId": queen["id"]}})
    assert by_filter["songs"]["totalCount"] == queen["songCount"]
    listing = await client.data("{ artists(first: 3) { edges { node { songCount } } } }")
    counts = [e["node"]["songCount"] for e in listing["artists"]["edges"]]
    assert counts == sorted(counts, reverse=True)


async def test_release_date_filters_and_orders(client: GraphQLClient) -> None:
    page = await client.data(
        SONGS,
        {
            "first": 100,
            "filter": {"releasedAfter": "2015", "releasedBefore": "2016"},
            "order": "RELEASE_DATE",
        },
    )
    dates = [e["node"]["releaseDate"] for e in page["songs"]["edges"]]
    assert dates and all("2015" <= d[:4] <= "2016" for d in dates)
    assert dates == sorted(dates, reverse=True)
    titles = await client.data(SONGS, {"first": 30, "order": "TITLE"})
    names = [e["node"]["title"].lower() for e in titles["songs"]["edges"]]
    assert names == sorted(names)
    bad = await client.execute(SONGS, {"first": 5, "filter": {"releasedAfter": "last year"}})
    assert error_codes(bad) == ["BAD_USER_INPUT"]


CREATE_SONG = """mutation($i: SongInput!) { createSong(input: $i) { id title artist genres
  artistProfile { name } audioFeatures { energy } } }"""


def new_song(track_id: str, **overrides: Any) -> dict[str, Any]:
    features = {
        "danceability": 0.7,
        "energy": 0.6,
        "valence": 0.8,
        "tempo": 118.0,
        "acousticness": 0.2,
    }
    return {
        "trackId": track_id,
        "title": "Resham Firiri (2026 mix)",
        "artist": "Madhur Ensemble",
        "genres": ["Nepali Folk"],
        "releaseDate": "2026-05-01",
        "audioFeatures": {**features, **overrides},
    }


async def test_catalog_edits_are_admin_only_and_validated(client: GraphQLClient) -> None:
    user, admin = await as_user(client), await as_admin(client)
    assert error_codes(await run(client, user, CREATE_SONG, i=new_song("abc123"))) == ["FORBIDDEN"]
    assert error_codes(await client.execute(CREATE_SONG, {"i": new_song("abc123")})) == [
        "UNAUTHENTICATED"
    ]
    for bad in (
        new_song("abc123", energy=1.5),
        new_song("abc123", tempo=0),
        {**new_song("abc123"), "title": " "},
        {**new_song("bad id!")},
        {**new_song("abc123"), "releaseDate": "May 2026"},
    ):
        assert error_codes(await run(client, admin, CREATE_SONG, i=bad)) == ["BAD_USER_INPUT"], bad

    created = (await run(client, admin, CREATE_SONG, i=new_song("abc123")))["data"]["createSong"]
    assert created["genres"] == ["nepali folk"]
    assert created["artistProfile"] == {"name": "Madhur Ensemble"}
    assert error_codes(await run(client, admin, CREATE_SONG, i=new_song("abc123"))) == ["CONFLICT"]
    assert await song_ids(client, "resham firiri") == [created["id"]]


async def test_a_deleted_song_leaves_every_list_at_once(client: GraphQLClient) -> None:
    admin, listener = await as_admin(client), await as_user(client)
    doomed = {**new_song("del0001"), "title": "Kutu Ma Kutu (demo)"}
    created = (await run(client, admin, CREATE_SONG, i=doomed))["data"]["createSong"]
    sid = created["id"]
    await run(client, listener, LIKE, id=sid)
    create = "mutation($i: CreatePlaylistInput!) { createPlaylist(input: $i) { id } }"
    pid = (await run(client, listener, create, i={"name": "p"}))["data"]["createPlaylist"]["id"]
    await run(
        client,
        listener,
        "mutation($id: ID!, $s: [ID!]!) { addSongsToPlaylist(id: $id, songIds: $s) { id } }",
        id=pid,
        s=[sid],
    )
    record = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"
    await run(client, listener, record, i={"songId": sid, "kind": "PLAY"})

    deleted = await run(client, admin, "mutation($id: ID!) { deleteSong(id: $id) }", id=sid)
    assert deleted["data"]["deleteSong"] == sid
    assert await song_ids(client, "kutu ma kutu") == []
    assert error_codes(
        await client.execute("query($id: ID!) { song(id: $id) { id } }", {"id": sid})
    ) == ["NOT_FOUND"]
    liked = await run(client, listener, "{ myLikedSongs { totalCount } }")
    assert liked["data"]["myLikedSongs"]["totalCount"] == 0
    playlist = await run(
        client, listener, "query($id: ID!) { playlist(id: $id) { songCount } }", id=pid
    )
    assert playlist["data"]["playlist"]["songCount"] == 0
    history = await run(client, listener, "{ myHistory { edges { node { kind song { id } } } } }")
    assert {"kind": "PLAY", "song": None} in [
        e["node"] for e in history["data"]["myHistory"]["edges"]
    ]
    recs = await run(client, listener, "{ recommendations(first: 50) { song { id } } }")
    assert sid not in {r["song"]["id"] for r in recs["data"]["recommendations"]}


async def test_round_trips_do_not_grow_with_page_size(client: GraphQLClient) -> None:
    token = await as_user(client)
    query = """query($n: Int!) { songs(first: $n) { edges { node { id artistProfile { name }
      likedByMe } } } }"""

    async def finds_for(n: int) -> int:
        before, accounts = FINDS.finds, FINDS.account_finds
        body = await run(client, token, query, n=n)
        assert len(body["data"]["songs"]["edges"]) == n
        # One identity check per request, not one per likedByMe (0 while the account is cached).
        assert FINDS.account_finds - accounts <= 1
        return FINDS.finds - before

    small, large = await finds_for(5), await finds_for(50)
    assert large == small <= 4, (small, large)


async def test_an_import_reaches_the_running_server(
    client: GraphQLClient, settings: Settings
) -> None:
    assert await song_ids(client, "sano prakash") == []
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "madhur-gql"),
        "import-songs",
        str(DATA / "songs_bad_rows.csv"),
        env={"MONGODB_URI": str(settings.mongodb_uri), "MADHUR_DB_NAME": settings.database_name},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    for _ in range(100):
        if await song_ids(client, "sano prakash"):
            break
        await asyncio.sleep(0.1)
    found = await song_ids(client, "sano prakash")
    assert len(found) == 1, "the running server sees imported songs without a restart"
    similar = await client.data(
        "query($id: ID!) { similarSongs(songId: $id, first: 5) { song { id } } }", {"id": found[0]}
    )
    assert len(similar["similarSongs"]) == 5


@pytest.mark.parametrize("first", [0, 101])
async def test_library_pages_check_first(client: GraphQLClient, first: int) -> None:
    body = await client.execute(
        "query($n: Int!) { trending(first: $n) { totalCount } }", {"n": first}
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_a_retried_playlist_add_with_its_key_is_applied_once(client: GraphQLClient) -> None:
    token = await as_user(client)
    song = (await song_ids(client, "drake", 1))[0]
    create = "mutation($i: CreatePlaylistInput!) { createPlaylist(input: $i) { id } }"
    pid = (await run(client, token, create, i={"name": "retry"}))["data"]["createPlaylist"]["id"]
    add = "mutation($p: ID!, $s: [ID!]!, $k: String) { addSongsToPlaylist(id: $p, songIds: $s, idempotencyKey: $k) { songCount } }"
    first = await run(client, token, add, p=pid, s=[song], k="add-1")
    retry = await run(client, token, add, p=pid, s=[song], k="add-1")
    assert first["data"]["addSongsToPlaylist"]["songCount"] == 1
    assert retry["data"]["addSongsToPlaylist"]["songCount"] == 1, "the retry changed nothing"
    other = await run(client, token, add, p=pid, s=[song], k="add-2")
    assert other["data"]["addSongsToPlaylist"]["songCount"] == 2, "a new key is a new add"
    unkeyed = await run(client, token, add, p=pid, s=[song])
    assert unkeyed["data"]["addSongsToPlaylist"]["songCount"] == 3
