"""Radio: pages of a station for one listener, the station's state carried by the caller.

No station lives on the server. A page takes the state the previous page handed out (what was
played, as a Bloom filter, and the last artists) and hands out the next state per song, which
the GraphQL layer turns into cursors. Any API process can serve any page; a Bloom filter never
forgets a song, so a station never repeats one (a false positive only skips one it has not
played: about 5% of candidates once 1,000 songs have played).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from rbloom import Bloom

from madhur_gql.documents import Artist
from madhur_gql.domain.song_fields import name_key
from madhur_gql.errors import BadUserInput, ServiceUnavailable
from madhur_gql.recommender.artists import similar_artists
from madhur_gql.recommender.radio import ARTIST_WINDOW, SeedKind, StationSeed, next_page, station
from madhur_gql.recommender.steering import Steering
from madhur_gql.recommender.values import Pick, Source
from madhur_gql.services.catalog.artists import find_artist_ids
from madhur_gql.services.recommendations.reasons import GENERIC_REASON
from madhur_gql.services.recommendations.service import Recommendation, RecommendationService

PLAYED_CAPACITY = 1000  # songs a station's filter is sized for
PLAYED_ERROR_RATE = 0.05


def _hash(item: str) -> int:
    """A process-independent 128-bit hash (Python's own is salted per process)."""
    return int.from_bytes(
        hashlib.blake2b(item.encode(), digest_size=16).digest(), "big", signed=True
    )


def new_played() -> Bloom:
    return Bloom(PLAYED_CAPACITY, PLAYED_ERROR_RATE, _hash)


_TEMPLATE = Bloom(PLAYED_CAPACITY, PLAYED_ERROR_RATE, _hash).save_bytes()
_HEADER = 8  # rbloom's layout: the hash count (u64), then the bits


def load_played(data: bytes) -> Bloom:
    """A filter saved by ``save_bytes``; ValueError for anything else (rbloom would panic on a
    short buffer, and a forged hash count would make every lookup slow)."""
    if len(data) != len(_TEMPLATE) or data[:_HEADER] != _TEMPLATE[:_HEADER]:
        raise ValueError("not a played-songs filter")
    return Bloom.load_bytes(data, _hash)


@dataclass(slots=True)
class StationState:
    """Where a listener is on a station: the seed, what was played, the last artists."""

    seed_key: str
    played: Bloom = field(default_factory=new_played)
    recent_artists: tuple[int, ...] = ()
    served: int = 0

    def after(self, item_id: str, artist: int) -> StationState:
        played = self.played.copy()
        played.add(item_id)
        recent = (*self.recent_artists, artist)[-(ARTIST_WINDOW - 1) :]
        return StationState(self.seed_key, played, recent, self.served + 1)


@dataclass(frozen=True, slots=True)
class RadioPage:
    results: list[Recommendation]
    states: list[StationState]  # the state after each pick
    has_next: bool
    total: int  # songs the station draws from


class RadioService:
    """Pages of stations, from the engine the recommendation service holds."""

    def __init__(self, recommendations: RecommendationService) -> None:
        self.recommendations = recommendations

    async def page(
        self,
        user_id: str,
        seed: StationSeed,
        label: str,
        state: StationState | None,
        first: int,
        steering: Steering,
    ) -> RadioPage:
        engine = self.recommendations.engine
        if engine is None:
            raise ServiceUnavailable(
                "Radio starts once the recommender is built; try again shortly.", retryAfter=5
            )
        state = state or StationState(seed.key)
        if state.seed_key != seed.key:
            raise BadUserInput("This cursor belongs to another station.", field="after")
        found = station(engine.items, engine.graphs, engine.config, seed)
        if found.size == 0:
            raise BadUserInput(f"No songs for the station {label}.", field="seed")
        profile = engine.profiles.profile(user_id, time.time())
        rows, scores, artists = next_page(
            engine.items,
            engine.graphs,
            engine.config,
            found,
            profile,
            steering,
            state.played,
            state.recent_artists,
            first,
        )
        source = Source.MOOD if seed.kind is SeedKind.MOOD else Source.SEED
        because = (seed.value,) if seed.kind is SeedKind.SONG else ()
        ids = engine.items.ids
        picks = [
            Pick(ids[r], min(max(s, 0.0), 1.0), source, because)
            for r, s in zip(rows, scores, strict=True)
        ]
        key_of = {ids[r]: a for r, a in zip(rows, artists, strict=True)}
        results = await self.recommendations.explain(picks)
        states: list[StationState] = []
        current = state
        for result in results:
            current = current.after(str(result.song.id), key_of[str(result.song.id)])
            # the station is the reason; keep only evidence-based ones after it
            evidence = [r for r in result.reasons if r != GENERIC_REASON]
            result.reasons[:] = [f"On your {label} station", *evidence]
            states.append(current)
        has_next = len(rows) == first and current.served < found.size
        return RadioPage(results, states, has_next, found.size)

    def similar_artists(self, artist_key: str, first: int) -> list[str]:
        """Keys (lower-cased names) of the artists most like one, best first."""
        engine = self.recommendations.engine
        if engine is None:
            return []
        code = engine.items.artist_code(artist_key)
        if code is None:
            return []
        names = engine.items.artist_names()
        return [names[c] for c in similar_artists(engine.items, engine.graphs, code, first)]


MAX_SIMILAR_ARTISTS = 50


async def similar_artist_documents(radio: RadioService, name: str, first: int) -> list[Artist]:
    """The artists most like the named one, as documents, best first."""
    keys = radio.similar_artists(name_key(name), first)
    ids = await find_artist_ids(keys)
    found = {a.id: a for a in await Artist.find({"_id": {"$in": list(ids.values())}}).to_list()}
    return [found[ids[k]] for k in keys if k in ids and ids[k] in found]
