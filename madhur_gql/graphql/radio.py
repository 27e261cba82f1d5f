"""Radio: endless stations seeded by a song, an artist, a genre or a mood, paged by cursor."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from madhur_gql.documents import ListKind
from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.context import Context
from madhur_gql.graphql.cursors import check_page_size
from madhur_gql.graphql.inputs import RadioSeedInput
from madhur_gql.graphql.station_cursor import decode_station, encode_station
from madhur_gql.graphql.types import Connection, Edge, PageInfo, Recommendation
from madhur_gql.services.catalog import songs as catalog
from madhur_gql.services.recommendations import Mood, SeedKind, StationSeed
from madhur_gql.services.recommendations.hidden import get_artist
from madhur_gql.services.recommendations.steering import steering_for

MAX_RADIO_PAGE = 100


async def station_seed(seed: RadioSeedInput) -> tuple[StationSeed, str]:
    """(seed, label) from exactly one of the input's fields."""
    given = [name for name in ("song_id", "artist_id", "genre", "mood") if getattr(seed, name)]
    if len(given) != 1:
        raise BadUserInput("Give exactly one of songId, artistId, genre or mood.", field="seed")
    if seed.song_id is not None:
        song = await catalog.get_song(seed.song_id)
        return StationSeed(SeedKind.SONG, str(song.id)), f"“{song.title}”"
    if seed.artist_id is not None:
        artist = await get_artist(seed.artist_id, field="seed.artistId")
        return StationSeed(SeedKind.ARTIST, artist.name_lc), artist.name
    if seed.genre is not None:
        genre = " ".join(seed.genre.split()).lower()
        return StationSeed(SeedKind.GENRE, genre), genre
    assert seed.mood is not None
    mood = Mood(seed.mood)
    return StationSeed(SeedKind.MOOD, mood.value), mood.value.lower()


@strawberry.type
class RadioQuery:
    @strawberry.field(
        description=(
            "A radio station for the caller, seeded by exactly one of a song, an artist, a "
            "genre or a mood. Page on with `after` (each edge's cursor resumes right after "
            "its song): a station does not repeat a song for at least 500 songs, keeps to its "
            "seed (a genre station plays only that genre; an artist station that artist and "
            "artists like them, at most 2 songs by one artist in any 10), and bends with the "
            "skips and dislikes the caller records while it plays. The cursor carries the "
            "station, so any server can serve the next page. `totalCount` is the number of "
            "songs the station draws from."
        )
    )
    async def radio(
        self,
        info: Info[Context, None],
        seed: Annotated[
            RadioSeedInput, strawberry.argument(description="What the station plays around.")
        ],
        first: Annotated[int, strawberry.argument(description="Songs on this page, 1..100.")] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="A cursor of this station's previous page."),
        ] = None,
    ) -> Connection[Recommendation]:
        user = await info.context.require_user()
        check_page_size(first, maximum=MAX_RADIO_PAGE)
        station, label = await station_seed(seed)
        state = decode_station(after, station.key) if after is not None else None
        services = info.context.services
        steering = await steering_for(user, services.settings.local_lift)
        page = await services.radio.page(str(user.id), station, label, state, first, steering)
        nodes = Recommendation.served(info.context, ListKind.RADIO, page.results)
        edges = [
            Edge(cursor=encode_station(s), node=node)
            for node, s in zip(nodes, page.states, strict=True)
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=state is not None and state.served > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else after,
            ),
            total_count=page.total,
        )
