"""The in-memory catalog index: which song ids a page shows, in which order, without MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from madhur_gql.services.catalog.index import CatalogIndex, SongOrder
from madhur_gql.services.catalog.songs import Range, SongFilter

NOW = datetime(2026, 6, 1, tzinfo=UTC)


TITLES: dict[str, str] = {}  # every song() document's id -> its lower-cased title


def song(
    title: str,
    artist: str,
    *,
    genres: tuple[str, ...] = ("pop",),
    popularity: int = 50,
    energy: float = 0.5,
    tempo: float = 120.0,
    release_date: str = "2020-01-01",
    likes: int = 0,
) -> dict[str, Any]:
    song_id = ObjectId()
    TITLES[str(song_id)] = title.lower()
    return {
        "_id": song_id,
        "title": title,
        "artist": artist,
        "title_lc": title.lower(),
        "artist_lc": artist.lower(),
        "artist_id": f"artist-{artist.lower()}",
        "genres": list(genres),
        "popularity": popularity,
        "release_date": release_date,
        "like_count": likes,
        "play_count": 0,
        "audio": {
            "energy": energy,
            "valence": 0.5,
            "danceability": 0.5,
            "acousticness": 0.5,
            "tempo": tempo,
        },
    }


def build(*docs: dict[str, Any]) -> tuple[CatalogIndex, dict[str, str]]:
    index = CatalogIndex.from_documents(docs)
    return index, {doc["title"]: str(doc["_id"]) for doc in docs}


def titles(index: CatalogIndex, ids: list[str]) -> list[str]:
    """The page's titles; every id must be a song the index holds."""
    assert all(i in index for i in ids)
    return [TITLES[i] for i in ids]


def test_orders_and_pages_never_overlap() -> None:
    index, _ = build(
        song("B", "x", popularity=90, release_date="2001"),
        song("A", "y", popularity=10, release_date="2024-05"),
        song("C", "z", popularity=50, release_date="2010-01-01"),
    )
    ids, total = index.query(order=SongOrder.POPULARITY)
    assert total == 3 and titles(index, ids) == ["b", "c", "a"]
    assert titles(index, index.query(order=SongOrder.TITLE)[0]) == ["a", "b", "c"]
    assert titles(index, index.query(order=SongOrder.RELEASE_DATE)[0]) == ["a", "c", "b"]
    first, _ = index.query(order=SongOrder.TITLE, offset=0, limit=2)
    rest, total = index.query(order=SongOrder.TITLE, offset=2, limit=2)
    assert titles(index, first + rest) == ["a", "b", "c"] and total == 3


def test_filters_search_and_counts() -> None:
    index, ids = build(
        song("Calm Water", "Mira", genres=("ambient",), energy=0.1, tempo=70),
        song("Fast Lane", "Kiro", genres=("rock", "pop"), energy=0.9, tempo=160),
        song("Slow Lane", "Kiro", genres=("rock",), energy=0.4, tempo=90, release_date=""),
    )
    rock = SongFilter(genre="rock", ranges={"energy": Range(min=0.5)})
    assert index.query(song_filter=rock) == ([ids["Fast Lane"]], 1)
    assert index.query(search="lane")[1] == 2
    assert index.query(search="mira")[0] == [ids["Calm Water"]]
    before = SongFilter(released_before="2020-99")
    assert index.query(song_filter=before)[1] == 2  # an unknown date is never "before"
    assert index.genre_counts() == [("rock", 2), ("ambient", 1), ("pop", 1)]
    assert index.artist_song_count("artist-kiro") == 2
    assert index.artists(None, 0, 10) == (["artist-kiro", "artist-mira"], 2)
    assert index.artists("mi", 0, 10) == (["artist-mira"], 1)


def test_live_counters_reorder_without_a_rebuild_and_edits_show_at_once() -> None:
    index, ids = build(song("One", "a", popularity=90), song("Two", "b", popularity=10))
    assert titles(index, index.query(order=SongOrder.LIKES)[0]) == [
        "one",
        "two",
    ]  # ties: popularity
    index.set_counters(ids["Two"], likes=5)
    assert titles(index, index.query(order=SongOrder.LIKES)[0]) == ["two", "one"]
    index.trending.add_play(ids["One"], NOW)
    assert titles(index, index.query(order=SongOrder.TRENDING)[0]) == ["one", "two"]
    index.remove(ids["One"])
    assert index.query() == ([ids["Two"]], 1)
    index.upsert(song("Three", "c", popularity=99))
    assert titles(index, index.query()[0]) == ["three", "two"]


def test_search_matches_inside_a_title_or_an_artist_never_across_them() -> None:
    index, ids = build(
        song("Night Drive", "Luna"), song("Midnight", "Kiro"), song("Day", "Nightwish")
    )
    found, total = index.query(search="night")
    assert total == 3 and set(found) == set(ids.values())
    assert index.query(search="drive")[0] == [ids["Night Drive"]]
    assert index.query(search="driveluna")[1] == 0  # the end of a title and its artist
    assert index.query(search="bus")[1] == 0
    index.upsert(song("Night Bus", "Oto"))
    found, total = index.query(search="bus")  # an edit is searchable at once
    assert total == 1 and titles(index, found) == ["night bus"]
    assert index.query(search="night")[1] == 4


def test_a_remembered_search_follows_live_counters_and_edits() -> None:
    index, ids = build(song("Night One", "a", popularity=90), song("Night Two", "b", popularity=10))
    for _ in range(2):  # the second answer is the remembered one: the same
        assert titles(index, index.query(search="night", order=SongOrder.LIKES)[0]) == [
            "night one",
            "night two",
        ]
    index.set_counters(ids["Night Two"], likes=5)
    assert titles(index, index.query(search="night", order=SongOrder.LIKES)[0]) == [
        "night two",
        "night one",
    ]
    assert index.query(search="night", order=SongOrder.LIKES, offset=1, limit=1) == (
        [ids["Night One"]],
        2,
    )
    index.trending.add_play(ids["Night Two"], NOW)
    assert titles(index, index.query(search="night", order=SongOrder.TRENDING)[0])[0] == (
        "night two"
    )
    index.upsert(song("Night Three", "c", popularity=99))
    assert index.query(search="night")[1] == 3
    index.remove(ids["Night One"])
    assert titles(index, index.query(search="night")[0]) == ["night three", "night two"]
    only_b = SongFilter(artist="b")
    assert index.query(search="night", song_filter=only_b) == ([ids["Night Two"]], 1)
