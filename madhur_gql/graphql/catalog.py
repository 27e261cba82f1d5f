"""Catalog operations: one song, pages of songs, genres."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from madhur_gql.graphql.context import Context
from madhur_gql.graphql.cursors import window
from madhur_gql.graphql.inputs import SongFilterInput
from madhur_gql.graphql.types import Connection, Genre, Song, SongOrder


@strawberry.type
class CatalogQuery:
    @strawberry.field
    async def song(self, info: Info[Context, None], id: strawberry.ID) -> Song:
        return Song.from_document(await info.context.services.songs.get(id))

    @strawberry.field(description="Songs in `order`; `search` matches title or artist.")
    async def songs(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        search: str | None = None,
        filter: SongFilterInput | None = None,
        order: SongOrder = SongOrder.POPULARITY,  # type: ignore[valid-type]
    ) -> Connection[Song]:
        offset, limit = window(first, after)
        page = await info.context.services.browser.find_songs(
            offset=offset,
            limit=limit,
            search=search,
            song_filter=filter.to_filter() if filter else None,
            order=order,
        )
        nodes = [Song.from_document(song) for song in page.items]
        await Song.mark_liked(info, nodes)
        return Connection.of(nodes, page.offset, page.total)

    @strawberry.field(description="Genres with the number of songs in each, largest first.")
    async def genres(self, info: Info[Context, None]) -> list[Genre]:
        counts = info.context.services.browser.genre_counts()
        return [Genre(name=name, song_count=n) for name, n in counts]
