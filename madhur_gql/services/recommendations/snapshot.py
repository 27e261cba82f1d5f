"""Documents -> engine input: the catalog snapshot as ``CatalogItems``, interactions as events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from madhur_gql.documents import Interaction, InteractionKind
from madhur_gql.domain.recordings import recording_key
from madhur_gql.recommender.features import FEATURE_NAMES
from madhur_gql.recommender.values import CatalogItems, Event

EVENTS_BATCH = 5000


def to_event(interaction: Interaction) -> Event:
    return event_from_doc(interaction.model_dump())


def event_from_doc(doc: Mapping[str, Any]) -> Event:
    """The engine's event from an interaction's fields (a raw document will do: the build
    process has no Beanie); its value is the rating, a partial play's share, or the seconds
    played before a skip."""
    kind = InteractionKind(doc["kind"])
    value: float | None = None
    if kind is InteractionKind.RATING and doc.get("rating") is not None:
        value = float(doc["rating"])
    elif kind is InteractionKind.PLAY and doc.get("played_share") is not None:
        value = float(doc["played_share"])
    elif kind is InteractionKind.SKIP and doc.get("played_seconds") is not None:
        value = float(doc["played_seconds"])
    return Event(
        user_id=str(doc["user_id"]),
        item_id=str(doc["song_id"]),
        kind=kind.value.lower(),
        at=doc["created_at"],
        value=value,
    )


def catalog_items(snapshot: Sequence[Mapping[str, Any]]) -> CatalogItems:
    """The recommender's view of the catalog, from the shared song snapshot."""
    ids = [str(doc["_id"]) for doc in snapshot]
    playlists: dict[str, list[str]] = {}
    for song_id, doc in zip(ids, snapshot, strict=True):
        for playlist_id in doc.get("playlist_ids") or ():
            playlists.setdefault(playlist_id, []).append(song_id)
    features = np.array(
        [[float(doc["audio"][name]) for name in FEATURE_NAMES] for doc in snapshot],
        dtype=np.float32,
    ).reshape(len(ids), len(FEATURE_NAMES))
    return CatalogItems(
        ids=ids,
        features=features,
        artists=[doc.get("artist_lc") or doc["artist"].lower() for doc in snapshot],
        genres=[tuple(doc.get("genres") or ()) for doc in snapshot],
        popularity=np.array([doc.get("popularity") or 0 for doc in snapshot], dtype=np.float32),
        groups=[group for group in playlists.values() if len(group) > 1],
        languages=[doc.get("language") or "" for doc in snapshot],
        countries=[doc.get("country") or "" for doc in snapshot],
        recordings=[recording_key(doc["title"], doc["artist"]) for doc in snapshot],
    )
