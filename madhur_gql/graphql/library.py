"""Library operations: artists, favourites, playlists, trending and popular songs."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from madhur_gql.graphql.context import Context
from madhur_gql.graphql.cursors import window
from madhur_gql.graphql.types import Artist, Connection, Playlist, Song
from madhur_gql.services.catalog import artists
from madhur_gql.services.catalog.index import SongOrder as Order
from madhur_gql.services.catalog.songs import SongFilter
from madhur_gql.services.library import likes, playlists


@strawberry.input(description="A new playlist: its name, whether others may see it, a description.")
class CreatePlaylistInput:
    name: str
    public: bool = False
    description: str = ""
    song_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Songs to start with, in order (at most 100, each must exist; repeats are "
        "kept): save any list in one call. On any error nothing is created.",
    )


@strawberry.input(description="Only the fields given are changed.")
class UpdatePlaylistInput:
    name: str | None = None
    public: bool | None = None
    description: str | None = None


async def _ranked_songs(
    info: Info[Context, None], order: Order, first: int, after: str | None, genre: str | None
) -> Connection[Song]:
    offset, limit = window(first, after)
    page = await info.context.services.browser.find_songs(
        offset=offset,
        limit=limit,
        song_filter=SongFilter(genre=genre) if genre else None,
        order=order,
    )
    return Connection.of([Song.from_document(s) for s in page.items], page.offset, page.total)


@strawberry.type
class LibraryQuery:
    @strawberry.field(description="Artists with songs in the catalog, most songs first.")
    async def artists(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Artist]:
        offset, limit = window(first, after)
        page = await info.context.services.browser.find_artists(
            offset=offset, limit=limit, search=search
        )
        artists = [Artist.from_document(artist) for artist in page.items]
        return Connection.of(artists, page.offset, page.total)

    @strawberry.field
    async def artist(self, id: strawberry.ID) -> Artist:
        return Artist.from_document(await artists.get_artist(id))

    @strawberry.field(description="Most played on Madhur lately: recent plays count most.")
    async def trending(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        genre: str | None = None,
    ) -> Connection[Song]:
        return await _ranked_songs(info, Order.TRENDING, first, after, genre)

    @strawberry.field(description="Most liked on Madhur.")
    async def popular(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        genre: str | None = None,
    ) -> Connection[Song]:
        return await _ranked_songs(info, Order.LIKES, first, after, genre)

    @strawberry.field(description="The caller's favourites, most recently liked first.")
    async def my_liked_songs(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[Song]:
        user = await info.context.require_user()
        assert user.id is not None
        offset, limit = window(first, after)
        page = await likes.liked_songs_page(user.id, offset=offset, limit=limit)
        found = await info.context.loaders.song.load_many([like.song_id for like in page.items])
        songs = [Song.from_document(song) for song in found if song is not None]
        return Connection.of(songs, page.offset, page.total)

    @strawberry.field(description="The caller's playlists, newest first.")
    async def my_playlists(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[Playlist]:
        user = await info.context.require_user()
        assert user.id is not None
        offset, limit = window(first, after)
        page = await playlists.playlists_page(user.id, offset=offset, limit=limit)
        nodes = [Playlist.from_document(playlist) for playlist in page.items]
        return Connection.of(nodes, page.offset, page.total)

    @strawberry.field(description="A public playlist, or one of the caller's own.")
    async def playlist(self, info: Info[Context, None], id: strawberry.ID) -> Playlist:
        caller = await info.context.viewer()
        viewer = caller.id if caller else None
        return Playlist.from_document(await playlists.visible_playlist(id, viewer))


@strawberry.type
class LibraryMutation:
    @strawberry.mutation(description="Add a song to the caller's favourites (idempotent).")
    async def like(self, info: Info[Context, None], song_id: strawberry.ID) -> Song:
        user = await info.context.require_user()
        await info.context.services.history.like(user, song_id)
        return Song.from_document(await info.context.services.songs.get(song_id, field="songId"))

    @strawberry.mutation(description="Remove a song from the caller's favourites (idempotent).")
    async def unlike(self, info: Info[Context, None], song_id: strawberry.ID) -> Song:
        user = await info.context.require_user()
        await info.context.services.history.unlike(user, song_id)
        return Song.from_document(await info.context.services.songs.get(song_id, field="songId"))

    @strawberry.mutation(
        description="Create a playlist for the caller, empty or with `songIds` (any list saved "
        "in one call)."
    )
    async def create_playlist(
        self, info: Info[Context, None], input: CreatePlaylistInput
    ) -> Playlist:
        user = await info.context.require_user()
        assert user.id is not None
        playlist = await playlists.create_playlist(
            user.id,
            input.name,
            public=input.public,
            description=input.description,
            song_ids=list(input.song_ids) if input.song_ids is not None else None,
        )
        return Playlist.from_document(playlist)

    @strawberry.mutation(description="Rename, describe or publish one of the caller's playlists.")
    async def update_playlist(
        self, info: Info[Context, None], id: strawberry.ID, input: UpdatePlaylistInput
    ) -> Playlist:
        user = await info.context.require_user()
        assert user.id is not None
        playlist = await playlists.update_playlist(
            id, user.id, name=input.name, public=input.public, description=input.description
        )
        return Playlist.from_document(playlist)

    @strawberry.mutation(description="Delete one of the caller's playlists; returns its id.")
    async def delete_playlist(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        user = await info.context.require_user()
        assert user.id is not None
        await playlists.delete_playlist(id, user.id)
        return id

    @strawberry.mutation(
        description="Insert songs at `position` (default: at the end). A retry with the same "
        "`idempotencyKey` is applied once."
    )
    async def add_songs_to_playlist(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        song_ids: list[strawberry.ID],
        position: int | None = None,
        idempotency_key: str | None = None,
    ) -> Playlist:
        user = await info.context.require_user()
        assert user.id is not None
        playlist = await playlists.add_songs(id, user.id, list(song_ids), position, idempotency_key)
        return Playlist.from_document(playlist)

    @strawberry.mutation(description="Remove every occurrence of the given songs.")
    async def remove_songs_from_playlist(
        self, info: Info[Context, None], id: strawberry.ID, song_ids: list[strawberry.ID]
    ) -> Playlist:
        user = await info.context.require_user()
        assert user.id is not None
        playlist = await playlists.remove_songs(id, user.id, list(song_ids))
        return Playlist.from_document(playlist)

    @strawberry.mutation(description="Move a song to `position` (0-based) in the playlist.")
    async def move_song_in_playlist(
        self, info: Info[Context, None], id: strawberry.ID, song_id: strawberry.ID, position: int
    ) -> Playlist:
        user = await info.context.require_user()
        assert user.id is not None
        playlist = await playlists.move_song(id, user.id, song_id, position)
        return Playlist.from_document(playlist)
