"""The whole listener journey over HTTP: register, log in, browse, play, get recommendations."""

from __future__ import annotations

from tests.conftest import GraphQLClient, error_codes, register_user

SONGS = """
query Songs($first: Int!, $after: String, $search: String, $filter: SongFilter) {
  songs(first: $first, after: $after, search: $search, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title artist genres popularity
      audioFeatures { energy valence danceability tempo } } }
  }
}
"""
RECOMMENDATIONS = """
query { recommendations(first: 10) { score source reasons song { id title artist genres } } }
"""
RECORD = """
mutation Record($input: RecordInteractionInput!) {
  recordInteraction(input: $input) { id kind createdAt song { id title } }
}
"""


async def test_register_login_me(client: GraphQLClient) -> None:
    registered = await register_user(client, email="Asha@Example.com")
    assert registered["user"]["email"] == "asha@example.com"
    login = await client.data(
        'mutation { login(email: "asha@example.com", password: "correct horse battery")'
        " { accessToken user { id displayName } } }"
    )
    assert login["login"]["user"]["id"] == registered["user"]["id"]
    body = await client.execute(
        "{ me { email displayName role } }", token=login["login"]["accessToken"]
    )
    assert body["data"]["me"] == {
        "email": "asha@example.com",
        "displayName": "Asha",
        "role": "USER",
    }


async def test_songs_pages_do_not_overlap_and_cover_the_catalog(client: GraphQLClient) -> None:
    seen: list[str] = []
    after = None
    total = None
    while True:
        page = (await client.data(SONGS, {"first": 100, "after": after}))["songs"]
        total = page["totalCount"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == total
    assert total == 761  # unique tracks in tests/data/songs_sample.csv


async def test_songs_are_ordered_by_popularity(client: GraphQLClient) -> None:
    edges = (await client.data(SONGS, {"first": 50}))["songs"]["edges"]
    popularity = [edge["node"]["popularity"] for edge in edges]
    assert popularity == sorted(popularity, reverse=True)


async def test_search_matches_title_or_artist_case_insensitively(client: GraphQLClient) -> None:
    by_artist = (await client.data(SONGS, {"first": 100, "search": "ed SHEERAN"}))["songs"]
    assert by_artist["totalCount"] > 5
    assert all("ed sheeran" in e["node"]["artist"].lower() for e in by_artist["edges"])
    by_title = (await client.data(SONGS, {"first": 100, "search": "shape of you"}))["songs"]
    assert any(e["node"]["title"] == "Shape of You" for e in by_title["edges"])
    regex_like = (await client.data(SONGS, {"first": 10, "search": ".*"}))["songs"]
    assert regex_like["totalCount"] == 0  # user text is literal, never a regex


async def test_filter_by_genre_and_feature_ranges(client: GraphQLClient) -> None:
    song_filter = {
        "genre": "Pop",
        "energy": {"min": 0.7},
        "valence": {"max": 0.5},
        "tempo": {"min": 100, "max": 140},
    }
    page = (await client.data(SONGS, {"first": 100, "filter": song_filter}))["songs"]
    assert page["totalCount"] > 0
    for edge in page["edges"]:
        node = edge["node"]
        features = node["audioFeatures"]
        assert "pop" in node["genres"]
        assert features["energy"] >= 0.7 and features["valence"] <= 0.5
        assert 100 <= features["tempo"] <= 140
    everything = (await client.data(SONGS, {"first": 1}))["songs"]["totalCount"]
    assert page["totalCount"] < everything


async def test_song_by_id_with_audio_features(client: GraphQLClient) -> None:
    first = (await client.data(SONGS, {"first": 1}))["songs"]["edges"][0]["node"]
    body = await client.data(
        "query($id: ID!) { song(id: $id) { id title trackId releaseDate durationMs"
        " audioFeatures { danceability energy valence tempo acousticness instrumentalness"
        " speechiness liveness loudness key mode } } }",
        {"id": first["id"]},
    )
    song = body["song"]
    assert song["id"] == first["id"] and song["title"] == first["title"]
    assert len(song["trackId"]) == 22 and song["durationMs"] > 0
    assert 0 <= song["audioFeatures"]["danceability"] <= 1
    assert song["audioFeatures"]["mode"] in (0, 1)


async def test_interactions_change_the_next_recommendations(client: GraphQLClient) -> None:
    client.token = (await register_user(client))["accessToken"]
    try:
        cold = (await client.data(RECOMMENDATIONS))["recommendations"]
        assert len(cold) == 10
        assert {r["source"] for r in cold} == {"POPULAR"}
        assert all(r["reasons"] for r in cold)

        queen = (await client.data(SONGS, {"first": 5, "search": "queen"}))["songs"]["edges"]
        liked = [edge["node"] for edge in queen[:3]]
        for song in liked:
            recorded = await client.data(RECORD, {"input": {"songId": song["id"], "kind": "LIKE"}})
            assert recorded["recordInteraction"]["song"]["id"] == song["id"]
            assert recorded["recordInteraction"]["kind"] == "LIKE"

        warm = (await client.data(RECOMMENDATIONS))["recommendations"]
        assert [r["song"]["id"] for r in warm] != [r["song"]["id"] for r in cold]
        warm_ids = {r["song"]["id"] for r in warm}
        assert not warm_ids & {song["id"] for song in liked}, "liked songs are not recommended"
        assert any(r["source"] in ("COLLABORATIVE", "CONTENT") for r in warm)
        liked_titles = {song["title"] for song in liked}
        assert any(
            any(title in reason for title in liked_titles) for r in warm for reason in r["reasons"]
        ), "reasons name the songs that caused the pick"

        played = warm[0]["song"]["id"]
        await client.data(RECORD, {"input": {"songId": played, "kind": "PLAY"}})
        after_play = (await client.data(RECOMMENDATIONS))["recommendations"]
        assert played not in {r["song"]["id"] for r in after_play}
    finally:
        client.token = None


async def test_history_lists_interactions_newest_first(client: GraphQLClient) -> None:
    client.token = (await register_user(client))["accessToken"]
    try:
        songs = (await client.data(SONGS, {"first": 3}))["songs"]["edges"]
        for edge in songs:
            await client.data(RECORD, {"input": {"songId": edge["node"]["id"], "kind": "PLAY"}})
        history = await client.data(
            "{ myHistory(first: 10) { totalCount edges { node { kind song { id } } } } }"
        )
        ids = [e["node"]["song"]["id"] for e in history["myHistory"]["edges"]]
        assert ids == [edge["node"]["id"] for edge in reversed(songs)]
        assert history["myHistory"]["totalCount"] == 3
    finally:
        client.token = None


async def test_recommendations_need_a_login(client: GraphQLClient) -> None:
    body = await client.execute(RECOMMENDATIONS)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None


async def test_genres_count_the_songs_a_genre_filter_finds(client: GraphQLClient) -> None:
    genres = (await client.data("{ genres { name songCount } }"))["genres"]
    counts = [genre["songCount"] for genre in genres]
    assert counts == sorted(counts, reverse=True) and len(genres) == 6
    for genre in genres[:3]:
        page = await client.data(SONGS, {"first": 1, "filter": {"genre": genre["name"]}})
        assert page["songs"]["totalCount"] == genre["songCount"]
