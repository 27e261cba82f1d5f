"""Artist and genre seeds become song seeds: each one's most popular songs ("more like these")."""

from __future__ import annotations

from collections.abc import Sequence

from madhur_gql.domain.ids import parse_object_id
from madhur_gql.domain.song_fields import name_key
from madhur_gql.errors import BadUserInput, NotFound
from madhur_gql.services.catalog.browse import SongBrowser
from madhur_gql.services.catalog.songs import SongFilter

SONGS_PER_ARTIST = 10  # an artist's sound and playlists show in their top ten
SONGS_PER_GENRE = 10
MAX_ARTIST_SEEDS = 5
MAX_GENRE_SEEDS = 5


def seed_songs(
    catalog: SongBrowser, artist_ids: Sequence[str], genres: Sequence[str]
) -> tuple[str, ...]:
    """The top songs of each seed artist and genre; NOT_FOUND / BAD_USER_INPUT for unknowns."""
    if len(artist_ids) > MAX_ARTIST_SEEDS:
        raise BadUserInput(f"At most {MAX_ARTIST_SEEDS} seed artists.", field="seedArtistIds")
    if len(genres) > MAX_GENRE_SEEDS:
        raise BadUserInput(f"At most {MAX_GENRE_SEEDS} seed genres.", field="seedGenres")
    songs: list[str] = []
    for artist_id in artist_ids:
        key = str(parse_object_id(artist_id, field="seedArtistIds"))
        ids, _ = catalog.index.query(
            song_filter=SongFilter(artist_id=key), offset=0, limit=SONGS_PER_ARTIST
        )
        if not ids:
            raise NotFound(f"No artist with songs has id '{artist_id}'.")
        songs.extend(ids)
    known = {name for name, _ in catalog.genre_counts()}
    for genre in genres:
        key = name_key(genre)
        if key not in known:
            raise BadUserInput(f"No songs in the genre '{genre}'.", field="seedGenres")
        ids, _ = catalog.index.query(
            song_filter=SongFilter(genre=key), offset=0, limit=SONGS_PER_GENRE
        )
        songs.extend(ids)
    return tuple(dict.fromkeys(songs))
