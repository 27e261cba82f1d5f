"""Browsing the catalog: the in-memory index chooses the songs and their order, MongoDB serves
the page's documents by `_id`, so a page costs one indexed query whatever the catalog size."""

from __future__ import annotations

from beanie import PydanticObjectId
from rapidfuzz import fuzz, process

from madhur_gql.documents import Artist, Song
from madhur_gql.errors import BadUserInput
from madhur_gql.services.catalog.artists import artists_by_ids
from madhur_gql.services.catalog.index import CatalogIndex, SongOrder
from madhur_gql.services.catalog.songs import SongFilter, normalise_search
from madhur_gql.services.catalog.store import SongStore
from madhur_gql.services.paging import Page


class SongBrowser:
    """What the API reads of the catalog: pages of songs and artists, counts, genres."""

    def __init__(self, index: CatalogIndex | None = None, songs: SongStore | None = None) -> None:
        # `is None`, not `or`: an empty index or store (a first start) is still the one to use.
        self.index = index if index is not None else CatalogIndex()
        self.songs = songs if songs is not None else SongStore()

    async def find_songs(
        self,
        *,
        offset: int,
        limit: int,
        search: str | None = None,
        song_filter: SongFilter | None = None,
        order: SongOrder = SongOrder.POPULARITY,
    ) -> Page[Song]:
        song_filter = song_filter.normalised() if song_filter else None
        if song_filter is not None and song_filter.genre is not None:
            self.check_genre(song_filter.genre, field="filter.genre")
        ids, total = self.index.query(
            search=normalise_search(search),
            song_filter=song_filter,
            order=order,
            offset=offset,
            limit=limit,
        )
        keys = [PydanticObjectId(i) for i in ids]
        found = await self.songs.by_ids(keys)
        songs = [found[key] for key in keys if key in found]
        return Page(items=songs, offset=offset, total=total)

    async def find_artists(self, *, offset: int, limit: int, search: str | None) -> Page[Artist]:
        """Artists with songs in the catalog, most songs first."""
        ids, total = self.index.artists(normalise_search(search), offset, limit)
        found = await artists_by_ids([PydanticObjectId(i) for i in ids])
        artists = [found[key] for key in map(PydanticObjectId, ids) if key in found]
        return Page(items=artists, offset=offset, total=total)

    def versions(self, song_id: str) -> list[PydanticObjectId]:
        """Ids of the other releases of the song's recording, most popular first."""
        return [PydanticObjectId(i) for i in self.index.versions(song_id)]

    def artist_song_count(self, artist_id: str) -> int:
        return self.index.artist_song_count(artist_id)

    def song_count(self) -> int:
        return len(self.index)

    def genre_counts(self) -> list[tuple[str, int]]:
        return self.index.genre_counts()

    def check_genre(self, genre: str, *, field: str) -> None:
        """A genre no song has is refused, with the nearest one, rather than matching nothing
        (a typo would otherwise look like an empty catalog)."""
        known = [name for name, _ in self.index.genre_counts()]
        if genre in known:
            return
        nearest = process.extractOne(genre, known, scorer=fuzz.ratio, score_cutoff=60)
        hint = f" Did you mean '{nearest[0]}'?" if nearest else ""
        raise BadUserInput(
            f"Unknown genre '{genre}'.{hint} The `genres` query lists them.", field=field
        )
