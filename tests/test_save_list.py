"""Saving any list in one call: `createPlaylist(input: {..., songIds})`."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from madhur_gql.documents import Playlist
from tests.conftest import GraphQLClient, error_codes, new_listener

CREATE = """mutation($i: CreatePlaylistInput!) {
  createPlaylist(input: $i) { id name songCount songs { id } } }"""
MINE = "{ myPlaylists(first: 50) { totalCount } }"
RECS = "query($n: Int) { recommendations(first: $n) { song { id } } }"


async def playlist_count(client: GraphQLClient, token: str) -> int:
    body = await client.execute(MINE, token=token)
    count: int = body["data"]["myPlaylists"]["totalCount"]
    return count


async def create(client: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    return await client.execute(CREATE, {"i": {"name": "Saved", **fields}}, token=token)


async def test_a_recommended_list_is_saved_in_one_call_in_its_order(
    client: GraphQLClient,
) -> None:
    token = await new_listener(client)
    body = await client.execute(RECS, {"n": 15}, token=token)
    songs = [item["song"]["id"] for item in body["data"]["recommendations"]]
    assert len(songs) == 15
    saved = await create(client, token, songIds=songs)
    assert not saved.get("errors"), saved
    playlist = saved["data"]["createPlaylist"]
    assert playlist["songCount"] == 15
    assert [song["id"] for song in playlist["songs"]] == songs
    # Read back: it is stored, not only echoed.
    again = await client.execute(
        "query($id: ID!) { playlist(id: $id) { songs { id } } }",
        {"id": playlist["id"]},
        token=token,
    )
    assert [song["id"] for song in again["data"]["playlist"]["songs"]] == songs


async def test_without_song_ids_or_with_none_the_playlist_starts_empty(
    client: GraphQLClient,
) -> None:
    token = await new_listener(client)
    for fields in ({}, {"songIds": []}):
        body = await create(client, token, **fields)
        assert not body.get("errors"), body
        assert body["data"]["createPlaylist"]["songCount"] == 0


async def test_bad_song_lists_are_refused_and_create_nothing(client: GraphQLClient) -> None:
    token = await new_listener(client)
    songs = await client.execute(RECS, {"n": 3}, token=token)
    real = [item["song"]["id"] for item in songs["data"]["recommendations"]]
    missing = str(ObjectId())
    cases = [
        ([*real, missing], "NOT_FOUND"),  # like addSongsToPlaylist: an unknown song
        ([*real, "not-an-id"], "BAD_USER_INPUT"),
        ([real[0]] * 101, "BAD_USER_INPUT"),  # over the per-call limit
    ]
    for song_ids, code in cases:
        body = await create(client, token, songIds=song_ids)
        assert error_codes(body) == [code], body
        assert body["errors"][0]["extensions"]["field"] == "songIds"
    assert await playlist_count(client, token) == 0


async def test_repeats_are_kept_as_given(client: GraphQLClient) -> None:
    """A saved list is what was given: the same rule as addSongsToPlaylist."""
    token = await new_listener(client)
    songs = await client.execute(RECS, {"n": 2}, token=token)
    a, b = (item["song"]["id"] for item in songs["data"]["recommendations"])
    body = await create(client, token, songIds=[a, b, a])
    assert [s["id"] for s in body["data"]["createPlaylist"]["songs"]] == [a, b, a]


async def test_a_playlist_with_songs_is_one_stored_document(client: GraphQLClient) -> None:
    """No half-made playlist: the songs are in the document from its first write."""
    token = await new_listener(client)
    songs = await client.execute(RECS, {"n": 5}, token=token)
    ids = [item["song"]["id"] for item in songs["data"]["recommendations"]]
    body = await create(client, token, songIds=ids)
    stored = await Playlist.get_pymongo_collection().find_one(
        {"_id": ObjectId(body["data"]["createPlaylist"]["id"])}
    )
    assert stored is not None
    assert [str(song) for song in stored["song_ids"]] == ids
    assert stored["version"] == 0
