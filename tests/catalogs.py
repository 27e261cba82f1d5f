"""Generated catalogs for tests that need more songs, or song fields, than the real sample has.

Every song here is invented (titles "Generated song N", artists "Generated artist N"): the
language and country columns are never put on real songs. Each genre has its own audio-feature
centre, artists stay inside one genre, and playlists draw from one genre, so similarity, radio
stations and the item graph have something real to find.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# dance, energy, valence, tempo, acoustic, instrumental, speech, liveness, loudness
CENTRES: dict[str, tuple[float, ...]] = {
    "rock": (0.45, 0.85, 0.45, 130.0, 0.05, 0.05, 0.05, 0.2, -5.0),
    "pop": (0.70, 0.65, 0.75, 118.0, 0.15, 0.00, 0.06, 0.15, -5.5),
    "edm": (0.80, 0.92, 0.50, 128.0, 0.02, 0.60, 0.05, 0.2, -4.0),
    "jazz": (0.50, 0.30, 0.55, 100.0, 0.75, 0.40, 0.05, 0.2, -12.0),
    "classical": (0.25, 0.15, 0.25, 80.0, 0.95, 0.90, 0.04, 0.1, -20.0),
    "hip hop": (0.80, 0.65, 0.50, 95.0, 0.10, 0.00, 0.30, 0.2, -6.0),
}
SPREAD = (0.08, 0.08, 0.12, 8.0, 0.08, 0.08, 0.03, 0.05, 1.5)
FEATURES = (
    "danceability",
    "energy",
    "valence",
    "tempo",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
    "loudness",
)
HEADER = (
    "track_id",
    "track_name",
    "track_artist",
    "track_popularity",
    "track_album_id",
    "track_album_name",
    "track_album_release_date",
    "playlist_name",
    "playlist_id",
    "playlist_genre",
    "playlist_subgenre",
    *FEATURES,
    "key",
    "mode",
    "duration_ms",
    "language",
    "country",
)


@dataclass
class GeneratedSong:
    track_id: str
    title: str
    artist: str
    genre: str
    popularity: int
    features: dict[str, float]
    language: str = ""
    country: str = ""
    playlists: list[str] = field(default_factory=list)


def generate(
    genres: tuple[str, ...],
    songs_per_genre: int,
    *,
    songs_per_artist: int = 20,
    playlists_per_genre: int = 40,
    playlist_size: int = 15,
    local_share: float = 0.0,
    seed: int = 7,
) -> list[GeneratedSong]:
    """Songs of the given genres; ``local_share`` of them (at random) Nepali (ne / NP)."""
    rng = np.random.default_rng(seed)
    songs: list[GeneratedSong] = []
    artist_no = 0
    for genre in genres:
        centre = np.array(CENTRES[genre])
        start = len(songs)
        for i in range(songs_per_genre):
            if i % songs_per_artist == 0:
                artist_no += 1
            values = centre + rng.normal(size=len(FEATURES)) * np.array(SPREAD)
            feats = {
                name: float(v if name in ("tempo", "loudness") else np.clip(v, 0.0, 1.0))
                for name, v in zip(FEATURES, values, strict=True)
            }
            number = len(songs) + 1
            songs.append(
                GeneratedSong(
                    track_id=f"gen{number:019d}",
                    title=f"Generated song {number}",
                    artist=f"Generated artist {artist_no}",
                    genre=genre,
                    popularity=int(np.clip(rng.gamma(2.0, 15.0), 0, 100)),
                    features=feats,
                )
            )
        members = songs[start:]
        weights = np.array([s.popularity + 1.0 for s in members])
        for p in range(playlists_per_genre):
            name = f"gen-{genre}-{p}"
            picked = rng.choice(
                len(members),
                size=min(playlist_size, len(members)),
                replace=False,
                p=weights / weights.sum(),
            )
            for j in picked:
                members[int(j)].playlists.append(name)
    local = rng.choice(len(songs), size=round(local_share * len(songs)), replace=False)
    for j in local:
        songs[int(j)].language, songs[int(j)].country = "ne", "NP"
    return songs


def write_csv(songs: list[GeneratedSong], path: Path) -> Path:
    """The spotify_songs layout (one row per song and playlist), plus language and country."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for number, song in enumerate(songs):
            for playlist in song.playlists or [""]:
                writer.writerow(
                    [
                        song.track_id,
                        song.title,
                        song.artist,
                        song.popularity,
                        f"album{number:018d}",
                        f"Generated album {number}",
                        f"20{number % 25:02d}-01-01",
                        playlist,
                        playlist,
                        song.genre,
                        song.genre,
                        *(round(song.features[name], 4) for name in FEATURES),
                        number % 12,
                        number % 2,
                        180_000 + number % 60_000,
                        song.language,
                        song.country,
                    ]
                )
    return path
