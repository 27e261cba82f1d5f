"""Documents -> engine input: the catalog snapshot as ``CatalogItems``, interactions as events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from madhur_gql.documents import Interaction
from madhur_gql.recommender.features import FEATURE_NAMES
from madhur_gql.recommender.values import CatalogItems, Event

EVENTS_BATCH = 5000


def to_event(interaction: Interaction) -> Event:
    return Event(
        user_id=str(interaction.user_id),
        item_id=str(interaction.song_id),
        kind=interaction.kind.value.lower(),
        at=interaction.created_at,
        value=float(interaction.rating) if interaction.rating is not None else None,
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
    )


async def load_events() -> dict[str, Event]:
    """Every stored interaction as an engine event, by interaction id."""
    events: dict[str, Event] = {}
    cursor = Interaction.get_pymongo_collection().find({}, batch_size=EVENTS_BATCH)
    async for doc in cursor:
        events[str(doc["_id"])] = to_event(Interaction.model_validate(doc))
    return events
