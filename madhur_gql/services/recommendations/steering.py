"""A listener's standing preferences as the ``Steering`` every personal list is shaped by.

Hidden artists, preferred languages and home country live on the user document; the request
adds its own feature bounds and genre seeds. Building it in one place is what
makes "no song by a hidden artist in any personal list, radio or mix" hold everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from madhur_gql.documents import Artist, User
from madhur_gql.recommender.steering import FeatureBounds, Steering


async def hidden_artist_keys(user: User) -> frozenset[str]:
    """The lower-cased names of the artists the listener hid."""
    if not user.hidden_artist_ids:
        return frozenset()
    collection = Artist.get_pymongo_collection()
    cursor = collection.find({"_id": {"$in": list(user.hidden_artist_ids)}}, {"name_lc": 1})
    return frozenset([doc["name_lc"] async for doc in cursor])


async def steering_for(
    user: User,
    local_lift: float,
    *,
    features: Sequence[tuple[str, FeatureBounds]] = (),
    seed_genres: Sequence[str] = (),
) -> Steering:
    """The listener's steering, plus this request's bounds and genre seeds."""
    return Steering(
        features=tuple(features),
        hidden_artists=await hidden_artist_keys(user),
        lifted_genres=frozenset(" ".join(g.split()).lower() for g in seed_genres),
        preferred_languages=frozenset(user.preferred_languages),
        home_country=user.country,
        local_lift=local_lift,
    )
