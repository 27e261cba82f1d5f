"""The GraphQL song is the same whether its document's fields are parsed or read lazily."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from madhur_gql import documents
from madhur_gql.graphql.types import Song

AUDIO: dict[str, Any] = {
    "danceability": 0.61,
    "energy": 0.72,
    "valence": 0.33,
    "tempo": 118.5,
    "acousticness": 0.12,
    "instrumentalness": 0.0,
    "speechiness": 0.04,
    "liveness": 0.2,
    "loudness": -5.5,
    "key": 7,
    "mode": 0,
}
FIELDS: dict[str, Any] = {
    "track_id": "4uLU6hMCjMI75M1A2tKUQC",
    "title": "Night Owl",
    "artist": "Asha Rai",
    "album": "Late",
    "genres": ["pop", "r&b"],
    "release_date": "2019-05",
    "popularity": 61,
    "duration_ms": 201_000,
    "play_count": 12,
    "like_count": 3,
    "language": "ne",
    "country": "NP",
    "artist_id": ObjectId(),
}


def as_dict(song: Song) -> dict[str, Any]:
    return {**vars(song), "audio": song.audio.model_dump()}


def test_a_lazily_parsed_document_gives_the_same_song_as_a_parsed_one() -> None:
    song_id = ObjectId()
    parsed = documents.Song.model_construct(
        id=song_id, **FIELDS, audio=documents.AudioFeatures.model_construct(**AUDIO)
    )
    lazy = documents.Song.lazy_parse({"_id": song_id, **FIELDS, "audio": AUDIO})
    from_parsed, from_lazy = Song.from_document(parsed), Song.from_document(lazy)
    assert as_dict(from_parsed) == as_dict(from_lazy)
    assert from_lazy.id == str(song_id) and from_lazy.title == "Night Owl"
    assert from_lazy.audio.key == 7 and from_lazy.genres == ["pop", "r&b"]


def test_a_document_missing_a_field_still_gives_its_default() -> None:
    song_id = ObjectId()
    values = {k: v for k, v in FIELDS.items() if k not in {"language", "country"}}
    song = documents.Song.model_construct(
        id=song_id, **values, audio=documents.AudioFeatures.model_construct(**AUDIO)
    )
    made = Song.from_document(song)
    assert made.language is None and made.country is None and made.title == "Night Owl"
