from __future__ import annotations

import strawberry
from strawberry.types import Info

from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.context import Context
from madhur_gql.graphql.inputs import SongFilterInput
from madhur_gql.graphql.types import (
    Genre,
    Interaction,
    InteractionConnection,
    InteractionEdge,
    Mood,
    PageInfo,
    Recommendation,
    Song,
    SongConnection,
    SongEdge,
    SongOrder,
    User,
)
from madhur_gql.services import catalog, interactions
from madhur_gql.services.pagination import check_page_size, encode_cursor
from madhur_gql.services.recommendations import MAX_RECOMMENDATIONS

MAX_SEED_SONGS = 50


def _unit(value: float | None, name: str) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise BadUserInput(f"'{name}' must be between 0 and 1.", field=name)
    return value


@strawberry.type
class Query:
    @strawberry.field(description="The caller's account.")
    async def me(self, info: Info[Context, None]) -> User:
        return User.from_document(await info.context.require_user())

    @strawberry.field
    async def song(self, id: strawberry.ID) -> Song:
        return Song.from_document(await catalog.get_song(id))

    @strawberry.field(description="Songs in `order`; `search` matches title or artist.")
    async def songs(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        search: str | None = None,
        filter: SongFilterInput | None = None,
        order: SongOrder = SongOrder.POPULARITY,
    ) -> SongConnection:
        page = await info.context.services.catalog.find_songs(
            first=first,
            after=after,
            search=search,
            song_filter=filter.to_filter() if filter else None,
            order=order,
        )
        edges = [
            SongEdge(cursor=encode_cursor(page.offset + i), node=Song.from_document(song))
            for i, song in enumerate(page.songs)
        ]
        return SongConnection(
            edges=edges,
            page_info=PageInfo.for_page(page.offset, len(edges), page.has_next),
            total_count=page.total,
        )

    @strawberry.field(description="Genres with the number of songs in each, largest first.")
    async def genres(self, info: Info[Context, None]) -> list[Genre]:
        counts = info.context.services.catalog.genre_counts()
        return [Genre(name=name, song_count=n) for name, n in counts]

    @strawberry.field(description="The caller's listening history, newest first.")
    async def my_history(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> InteractionConnection:
        user = await info.context.require_user()
        assert user.id is not None
        items, offset, total = await interactions.user_history(user.id, first=first, after=after)
        edges = [
            InteractionEdge(cursor=encode_cursor(offset + i), node=Interaction.from_document(item))
            for i, item in enumerate(items)
        ]
        return InteractionConnection(
            edges=edges,
            page_info=PageInfo.for_page(offset, len(edges), offset + len(edges) < total),
            total_count=total,
        )

    @strawberry.field(
        description=(
            "Songs picked for the caller: a hybrid of what similar listeners play and what "
            "sounds like the caller's songs. `mood` or `valence`/`energy` steer it; "
            "`seedSongIds` asks for more like those songs."
        )
    )
    async def recommendations(
        self,
        info: Info[Context, None],
        first: int = 20,
        mood: Mood | None = None,  # type: ignore[valid-type]
        valence: float | None = None,
        energy: float | None = None,
        seed_song_ids: list[strawberry.ID] | None = None,
        genre: str | None = None,
        diversity: float = 0.3,
    ) -> list[Recommendation]:
        user = await info.context.require_user()
        check_page_size(first, maximum=MAX_RECOMMENDATIONS)
        seeds = seed_song_ids or []
        if len(seeds) > MAX_SEED_SONGS:
            raise BadUserInput(f"At most {MAX_SEED_SONGS} seed songs.", field="seedSongIds")
        results = await info.context.services.recommendations.recommend(
            str(user.id),
            first,
            mood=mood,
            valence=_unit(valence, "valence"),
            energy=_unit(energy, "energy"),
            seed_song_ids=seeds,
            genre=genre,
            diversity=_unit(diversity, "diversity") or 0.0,
        )
        return [Recommendation.from_result(r) for r in results]

    @strawberry.field(description="Songs that sound like, and are played with, the given song.")
    async def similar_songs(
        self, info: Info[Context, None], song_id: strawberry.ID, first: int = 20
    ) -> list[Recommendation]:
        check_page_size(first, maximum=MAX_RECOMMENDATIONS)
        song = await catalog.get_song(song_id)
        results = await info.context.services.recommendations.similar(str(song.id), first)
        return [Recommendation.from_result(r) for r in results]
