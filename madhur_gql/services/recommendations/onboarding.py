"""Onboarding choices that keep steering: favourite genres and moods while history is thin.

A listener's favourite genres and moods (chosen at sign-up, ``updateMe``) speak for them until
their history can: the onboarding share of a list is ``1 - positive songs / THIN_HISTORY``, so
a listener with no positive song (a like taken back included) gets only onboarding picks, one
with five gets half, one with ten or more none. Every choice counts: one list per favourite
genre (songs like the genre's best, in the genre), each steered by one favourite mood in turn,
and a list for each mood left over; the lists take turns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from madhur_gql.domain.song_fields import name_key
from madhur_gql.recommender.engine import RecommenderEngine
from madhur_gql.recommender.mood import Mood
from madhur_gql.recommender.values import Pick, RecommendationRequest

MAX_FAVOURITE_GENRES = 5
THIN_HISTORY = 10  # positive songs at which favourites stop steering


def onboarding_share(positive_songs: int) -> float:
    """The share of a list the onboarding choices take, fading as the history grows."""
    return max(0.0, 1.0 - positive_songs / THIN_HISTORY)


def onboarding_moods(request: RecommendationRequest, moods: Sequence[str]) -> list[Mood]:
    """The favourite moods that steer this request (none when it steers by mood or targets)."""
    if request.steered:
        return []
    return list(dict.fromkeys(Mood(m) for m in moods))


def onboarding_genres(request: RecommendationRequest, favourite_genres: Sequence[str]) -> list[str]:
    """The favourite genres that steer this request (none when it names seeds or a genre)."""
    if request.seeds or request.genre is not None:
        return []
    return [name_key(g) for g in favourite_genres][:MAX_FAVOURITE_GENRES]


def onboarding_requests(
    request: RecommendationRequest,
    genres: Sequence[str],
    moods: Sequence[Mood],
    genre_seeds: Callable[[str], list[str]],
) -> list[RecommendationRequest]:
    """One request per favourite genre (the moods taking turns), then one per mood left."""
    out = []
    for k, genre in enumerate(genres):
        mood = moods[k % len(moods)] if moods else request.mood
        out.append(
            dataclasses.replace(request, seeds=tuple(genre_seeds(genre)), genre=genre, mood=mood)
        )
    out.extend(dataclasses.replace(request, mood=mood) for mood in moods[len(genres) :])
    return out


def take_turns(lists: Sequence[Sequence[Pick]], first: int) -> list[Pick]:
    """Up to ``first`` picks, the lists taking turns rank by rank, each song once."""
    picks: dict[str, Pick] = {}
    for rank in range(max((len(x) for x in lists), default=0)):
        for picked in lists:
            if rank < len(picked) and len(picks) < first:
                picks.setdefault(picked[rank].item_id, picked[rank])
    return list(picks.values())


def blend(
    onboarding: Sequence[Pick], personal: Sequence[Pick], share: float, first: int
) -> list[Pick]:
    """``first`` picks, a ``share`` of them from ``onboarding`` spread evenly down the list, the
    rest from ``personal``; either fills in when the other runs out."""
    out: dict[str, Pick] = {}
    a, b = list(onboarding), list(personal)
    taken = 0
    while len(out) < first and (a or b):
        want = share * (len(out) + 1) > taken + 1e-9
        source = a if (want and a) or not b else b
        pick = source.pop(0)
        if pick.item_id in out:
            continue
        out[pick.item_id] = pick
        if source is a:
            taken += 1
    return list(out.values())


def onboarding_picks(
    engine: RecommenderEngine,
    user_id: str | None,
    requests: Sequence[RecommendationRequest],
    first: int,
) -> list[Pick]:
    """The onboarding lists, taking turns."""
    return take_turns([engine.recommend(user_id, r) for r in requests], first)
