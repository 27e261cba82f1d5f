"""The read model's columns by row: ids found by binary search, stale bytes never matched."""

from __future__ import annotations

import random
from typing import Any

import pytest
from beanie import PydanticObjectId
from bson import ObjectId

from madhur_gql.documents import AudioFeatures
from madhur_gql.services.catalog import columns
from madhur_gql.services.catalog.columns import Keys
from madhur_gql.services.catalog.index import CatalogIndex
from madhur_gql.services.catalog.store import SongStore


def test_keys_find_every_row_before_and_after_they_are_sorted_in() -> None:
    rng = random.Random(7)
    # trailing NULs included: numpy's bytes column drops them from an element read back
    wanted = [rng.randbytes(11) + bytes([i % 3]) for i in range(3 * columns.SETTLE_MIN)]
    wanted += [bytes(12), b"\x00" * 11 + b"\x01"]
    keys = Keys()
    rows = [keys.hold(key) for key in wanted]
    assert rows == list(range(len(wanted))) and len(keys) == len(wanted)
    assert all(keys.row(key) == row for key, row in zip(wanted, rows, strict=True))
    assert all(keys.key(row) == key for key, row in zip(wanted, rows, strict=True))
    missing = [rng.randbytes(12) for _ in range(50)] + [b"\x00" * 11 + b"\x02"]
    assert all(keys.row(key) is None for key in missing)
    asked = [wanted[5], missing[0], wanted[-1], wanted[-2], missing[-1]]
    assert keys.rows(asked).tolist() == [5, -1, len(wanted) - 1, len(wanted) - 2, -1]
    # dropped: not found, its row unused; held again: the same row
    assert keys.drop(wanted[5]) == 5 and keys.drop(wanted[5]) is None
    assert keys.row(wanted[5]) is None and keys.rows(asked[:1]).tolist() == [-1]
    assert len(keys) == len(wanted) - 1 and 5 not in keys.held().tolist()
    assert keys.hold(wanted[5]) == 5 and len(keys) == len(wanted)


def song(title: str, **fields: Any) -> dict[str, Any]:
    audio = dict.fromkeys(("energy", "valence", "danceability", "acousticness", "tempo"), 0.5)
    return {"_id": ObjectId(), "title": title, "artist": "Kiro", "audio": audio, **fields}


def test_an_edited_or_removed_songs_old_text_is_never_a_match() -> None:
    edited, removed, kept = song("Old Name"), song("Gone Song"), song("Kept")
    index = CatalogIndex.from_documents([edited, removed, kept])
    index.upsert({**edited, "title": "New Name"})
    index.remove(str(removed["_id"]))
    assert index.query(search="old")[1] == 0 and index.query(search="gone")[1] == 0
    assert index.query(search="new") == ([str(edited["_id"])], 1)
    assert index.query(search="kiro")[1] == 2 and len(index) == 2
    index.upsert(removed)  # back: its row again
    assert index.query(search="gone") == ([str(removed["_id"])], 1) and len(index) == 3


def test_a_song_that_cannot_be_indexed_leaves_the_index_and_the_store_whole() -> None:
    """A document with a field missing (another client's write, through the change feed)
    raises before a row is taken: the songs held before, and those after, still answer."""
    held = song("Held")
    index = CatalogIndex.from_documents([held])
    broken = {**song("Broken"), "audio": {"energy": 0.5}}
    with pytest.raises(KeyError):
        index.upsert(broken)
    index.upsert(song("Later"))
    assert index.query(search="held")[1] == 1 and index.query(search="later")[1] == 1
    assert index.query(search="broken")[1] == 0 and len(index) == 2

    audio = dict.fromkeys(AudioFeatures.model_fields, 0)
    document = {"_id": ObjectId(), "track_id": "t1", "title": "Held", "artist": "Kiro"}
    document["audio"] = audio
    store = SongStore()
    store.load([document])
    bad = {**document, "_id": ObjectId(), "audio": {"energy": 0.5}}
    with pytest.raises(KeyError):
        store.upsert(bad)
    assert len(store) == 1 and bad["_id"] not in store
    assert (held_song := store.cached(PydanticObjectId(document["_id"]))) is not None
    assert held_song.title == "Held"
