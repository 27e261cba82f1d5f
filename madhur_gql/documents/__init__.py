"""Beanie documents: what is stored, and the indexes its queries need."""

from madhur_gql.documents.artist import Artist
from madhur_gql.documents.interaction import Interaction, InteractionKind
from madhur_gql.documents.like import Like
from madhur_gql.documents.playlist import Playlist
from madhur_gql.documents.refresh_token import RefreshToken
from madhur_gql.documents.served_list import ListDayStats, ListKind, ServedList, ServedListHead
from madhur_gql.documents.song import AudioFeatures, Song
from madhur_gql.documents.spotify import SpotifyArtistInfo, SpotifyTrackInfo
from madhur_gql.documents.user import Role, User

ALL_DOCUMENTS = (
    User,
    Song,
    Artist,
    Interaction,
    Like,
    Playlist,
    RefreshToken,
    SpotifyTrackInfo,
    SpotifyArtistInfo,
    ServedList,
    ServedListHead,
    ListDayStats,
)

__all__ = [
    "ALL_DOCUMENTS",
    "Artist",
    "AudioFeatures",
    "Interaction",
    "InteractionKind",
    "Like",
    "ListDayStats",
    "ListKind",
    "Playlist",
    "RefreshToken",
    "Role",
    "ServedList",
    "ServedListHead",
    "Song",
    "User",
]
