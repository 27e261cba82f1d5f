"""The song store (the read model): columns in, the stored documents back out, edits in place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from madhur_gql.services.catalog.store import SongStore

CREATED = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def stored(n: int, **fields: Any) -> dict[str, Any]:
    artist = f"Artist {n % 3}"
    return {
        "_id": ObjectId(),
        "track_id": f"{n:022d}",
        "title": f"Song {n} ☃ Ünïcødé" if n % 2 else f"Song {n}",
        "artist": artist,
        "artist_id": ObjectId(b"artist-%05d" % (n % 3)),
        "album": None if n % 4 == 0 else f"Album {n // 2}",
        "album_id": f"{n // 2:022d}",
        "release_date": "2020-05-01",
        "genres": ["pop", "rock"][: 1 + n % 2],
        "subgenres": [],
        "playlist_ids": [f"p{n // 3}"],
        "popularity": n * 7 % 101,
        "language": "en" if n % 2 else None,
        "country": None,
        "duration_ms": 180_000 + n,
        "audio": {
            "danceability": 0.1 * (n % 10),
            "energy": 0.123456789,
            "valence": 0.5,
            "tempo": 120.25 + n,
            "acousticness": 0.0,
            "instrumentalness": 1.0,
            "speechiness": 0.05,
            "liveness": 0.2,
            "loudness": -7.5,
            "key": n % 12 - 1,
            "mode": n % 2,
        },
        "title_lc": f"song {n}",
        "artist_lc": artist.lower(),
        "like_count": n,
        "play_count": 2 * n,
        "created_at": CREATED,
        "updated_at": CREATED,
        **fields,
    }


def assert_serves(store: SongStore, doc: dict[str, Any]) -> None:
    song = store.cached(PydanticObjectId(doc["_id"]))
    assert song is not None
    assert song.id == doc["_id"]
    for name, value in doc.items():
        if name == "_id":
            continue
        served = getattr(song, name)
        if name == "audio":
            assert served.model_dump() == value
            assert isinstance(served.key, int) and isinstance(served.mode, int)
        else:
            assert served == value, name


def test_every_stored_field_is_served_back_as_it_was_stored() -> None:
    docs = [stored(n) for n in range(12)]
    store = SongStore(ready=4)  # most documents are built again from the columns
    store.load(docs)
    assert len(store) == 12
    for doc in [*docs, *docs]:
        assert_serves(store, doc)
    assert PydanticObjectId(docs[3]["_id"]) in store and ObjectId() not in store
    assert str(docs[3]["_id"]) in store and "not an id" not in store


def test_edits_counters_and_removals_change_what_is_served() -> None:
    docs = [stored(n) for n in range(6)]
    store = SongStore(ready=2)
    store.load(docs)
    edited = {**docs[2], "title": "A much longer title than before", "genres": ["jazz"]}
    edited["album"] = "Brand New Album"
    served = store.upsert(edited)
    assert served.title == "A much longer title than before" and served.genres == ["jazz"]
    assert_serves(store, edited)
    for doc in (docs[1], docs[3]):  # neighbours in the buffers are untouched
        assert_serves(store, doc)
    song_id = PydanticObjectId(docs[4]["_id"])
    store.set_counters(song_id, likes=41, plays=99)
    assert_serves(store, {**docs[4], "like_count": 41, "play_count": 99})
    store.remove(song_id)
    assert store.cached(song_id) is None and song_id not in store and len(store) == 5
    assert_serves(store, docs[5])
