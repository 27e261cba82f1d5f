"""Beanie documents: what is stored, and the indexes its queries need."""

from madhur_gql.documents.interaction import Interaction, InteractionKind
from madhur_gql.documents.refresh_token import RefreshToken
from madhur_gql.documents.song import AudioFeatures, Song
from madhur_gql.documents.user import Role, User

ALL_DOCUMENTS = (User, Song, Interaction, RefreshToken)

__all__ = [
    "ALL_DOCUMENTS",
    "AudioFeatures",
    "Interaction",
    "InteractionKind",
    "RefreshToken",
    "Role",
    "Song",
    "User",
]
