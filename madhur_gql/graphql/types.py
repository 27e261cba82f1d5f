"""GraphQL object types. Each is built from a document by `from_document`."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Generic, TypeVar

import strawberry
from beanie import PydanticObjectId
from cachetools import LRUCache
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from lazy_model.nao import NAO
from strawberry.types import Info

from madhur_gql import documents
from madhur_gql.errors import BadUserInput
from madhur_gql.graphql.context import Context
from madhur_gql.graphql.cost import LIST_SIZE_HINTS, charge_list
from madhur_gql.graphql.cursors import check_page_size, encode_cursor, window
from madhur_gql.graphql.execution import plain_when_set
from madhur_gql.graphql.spotify import CoverSize, spotify_track_info
from madhur_gql.services.catalog import index as catalog_index
from madhur_gql.services.catalog.songs import SongFilter
from madhur_gql.services.recommendations import Mood as MoodEnum
from madhur_gql.services.recommendations import Recommendation as RecommendationResult
from madhur_gql.services.recommendations import Source
from madhur_gql.services.recommendations.radio import (
    MAX_SIMILAR_ARTISTS,
    similar_artist_documents,
)
from madhur_gql.services.recommendations.served_lists import ListCounts

Role = strawberry.enum(documents.Role, description="What an account may do.")
InteractionKind = strawberry.enum(
    documents.InteractionKind,
    description=(
        'What a listener did. DISLIKE is "not for me": the song never comes back in any of '
        "their lists and songs like it rank lower. A SKIP in the first seconds (see "
        "`playedSeconds`) counts more than a late one."
    ),
)
RecommendationSource = strawberry.enum(
    Source, name="RecommendationSource", description="The signal that chose a recommended song."
)
Mood = strawberry.enum(
    MoodEnum, name="Mood", description="A target on the valence-energy plane that steers a list."
)
SongOrder = strawberry.enum(
    catalog_index.SongOrder, name="SongOrder", description="How a list of songs is ordered."
)
ListKind = strawberry.enum(
    documents.ListKind, name="ListKind", description="Where a list was served."
)


@strawberry.type(description="Spotify audio features; 0..1 unless noted.")
class AudioFeatures:
    danceability: float
    energy: float
    valence: float
    tempo: float = strawberry.field(description="Beats per minute.")
    acousticness: float
    instrumentalness: float
    speechiness: float
    liveness: float
    loudness: float = strawberry.field(description="Average loudness in dB (about -60..0).")
    key: int = strawberry.field(description="Pitch class 0..11 (0 = C), -1 when unknown.")
    mode: int = strawberry.field(description="1 major, 0 minor.")


SONG_FIELDS = (
    "id",
    "track_id",
    "title",
    "artist",
    "album",
    "genres",
    "release_date",
    "popularity",
    "duration_ms",
    "play_count",
    "like_count",
    "language",
    "country",
    "artist_id",
    "audio",
)
_song_values = itemgetter(*SONG_FIELDS)


def _parsed(values: tuple[object, ...]) -> bool:
    """No field left for lazy parsing (by identity: `NAO in values` calls each value's
    __eq__, pydantic's and ObjectId's in Python)."""
    return id(NAO) not in map(id, values)


@strawberry.type(description="A song of the catalog, with its audio features and counters.")
class Song:
    id: strawberry.ID
    track_id: str = strawberry.field(description="Spotify track id.")
    title: str
    artist: str
    album: str | None
    genres: list[str]
    release_date: str | None = strawberry.field(description="ISO date, possibly partial (YYYY).")
    popularity: int = strawberry.field(description="0..100, from Spotify at import time.")
    duration_ms: int
    play_count: int = strawberry.field(description="Plays on Madhur.")
    like_count: int = strawberry.field(description="Listeners who like this song on Madhur.")
    language: str | None = strawberry.field(
        description='ISO 639-1 code of the lyrics\' language ("ne"); null when unknown, as for '
        "every song of the demo catalog: Madhur never guesses one."
    )
    country: str | None = strawberry.field(
        description='ISO 3166-1 alpha-2 code of the song\'s country ("NP"); null when unknown.'
    )
    artist_id: strawberry.Private[PydanticObjectId | None]
    audio: strawberry.Private[documents.AudioFeatures]
    # Whether the caller likes it, when the page's likes were looked up together (`mark_liked`)
    liked: strawberry.Private[bool | None] = None

    @strawberry.field
    def audio_features(self) -> AudioFeatures:
        return AudioFeatures(**self.audio.model_dump())

    @strawberry.field(description="The artist as a browsable entity (`artist` is the name).")
    async def artist_profile(self, info: Info[Context, None]) -> Artist | None:
        if self.artist_id is None:
            return None
        artist = await info.context.loaders.artist.load(self.artist_id)
        return Artist.from_document(artist) if artist else None

    @strawberry.field(
        description="Other releases of the same recording (a radio edit, a remaster, a release "
        "crediting a featured artist: the same normalised title and primary artist; a live take "
        "or a remix is another recording), most popular first; empty when there are none. "
        "Search, recommendations and similar songs show a recording once, as its most popular "
        "release, and a like or play of any version counts for the song."
    )
    async def versions(self, info: Info[Context, None]) -> list[Song]:
        ids = info.context.services.browser.versions(str(self.id))
        if not ids:
            return []
        found = await info.context.loaders.song.load_many(ids)
        return [Song.from_document(song) for song in found if song is not None]

    @strawberry.field(
        description="Whether the caller likes this song; false when anonymous.", graphql_type=bool
    )
    @plain_when_set("liked")
    def liked_by_me(self, info: Info[Context, None]) -> bool | Awaitable[bool]:
        """At once when the page was marked (no awaiting per song); else batched per request."""
        if self.liked is not None:
            return self.liked
        return _liked_by_me(info.context, PydanticObjectId(self.id))

    @strawberry.field(description="Album cover from Spotify; null until fetched or if none.")
    async def album_cover_url(
        self,
        info: Info[Context, None],
        size: CoverSize = CoverSize.MEDIUM,  # type: ignore[valid-type]
    ) -> str | None:
        entry = await spotify_track_info(info.context, self.track_id)
        return entry.cover_url(size) if entry else None

    @strawberry.field(description="The song on open.spotify.com; null until fetched.")
    async def spotify_url(self, info: Info[Context, None]) -> str | None:
        entry = await spotify_track_info(info.context, self.track_id)
        return entry.spotify_url if entry else None

    @strawberry.field(description="A 30 s MP3 preview; Spotify gives few apps one since 2024.")
    async def preview_url(self, info: Info[Context, None]) -> str | None:
        entry = await spotify_track_info(info.context, self.track_id)
        return entry.preview_url if entry else None

    @strawberry.field(description="The (first) artist's image from Spotify, about 320 px.")
    async def artist_image_url(self, info: Info[Context, None]) -> str | None:
        entry = await spotify_track_info(info.context, self.track_id)
        return entry.artist_image_url if entry else None

    @classmethod
    def from_document(cls, song: documents.Song) -> Song:
        # A Beanie document reads each attribute through lazy_model's Python-level
        # __getattribute__ (15 of them per song, 20 songs a page); a document whose fields
        # are all parsed (the song store's, anything Beanie read without lazy parsing) holds
        # them in its __dict__, read at C speed.
        try:
            values = _song_values(song.__dict__)
        except KeyError:
            values = (NAO,)
        if _parsed(values):
            return cls(
                id=strawberry.ID(str(values[0])),
                track_id=values[1],
                title=values[2],
                artist=values[3],
                album=values[4],
                genres=values[5],
                release_date=values[6],
                popularity=values[7],
                duration_ms=values[8],
                play_count=values[9],
                like_count=values[10],
                language=values[11],
                country=values[12],
                artist_id=values[13],
                audio=values[14],
            )
        return cls(
            id=strawberry.ID(str(song.id)),
            track_id=song.track_id,
            title=song.title,
            artist=song.artist,
            album=song.album,
            genres=song.genres,
            release_date=song.release_date,
            popularity=song.popularity,
            duration_ms=song.duration_ms,
            play_count=song.play_count,
            like_count=song.like_count,
            language=song.language,
            country=song.country,
            artist_id=song.artist_id,
            audio=song.audio,
        )

    @staticmethod
    async def mark_liked(info: Info[Context, None], songs: Sequence[Song]) -> None:
        """Look up the caller's likes of a whole page at once, if the query asks for them."""
        if not songs or not asks_for(info, "likedByMe"):
            return
        ids = [PydanticObjectId(song.id) for song in songs]
        liked = await info.context.liked_among(ids)
        for song, song_id in zip(songs, ids, strict=True):
            song.liked = song_id in liked


async def _liked_by_me(context: Context, song_id: PydanticObjectId) -> bool:
    loader = await context.liked_loader()
    return False if loader is None else await loader.load(song_id)


# Whether a field's nodes ask for a name below them, by the nodes' ids (nodes kept, so an id
# is not reused while its entry lives). A cached document's nodes are the same objects in every
# request: Strawberry's `selected_fields` rebuilt the whole selection tree per page instead.
_ASKED: LRUCache[tuple[object, ...], tuple[tuple[FieldNode, ...], bool]] = LRUCache(maxsize=512)


def asks_for(info: Info[Context, None], name: str) -> bool:
    """Whether a field called `name` is asked for at or anywhere below the current field
    (fragments included), read from the field's nodes."""
    raw = info._raw_info
    nodes = tuple(raw.field_nodes)
    key = (name, *map(id, nodes))
    known = _ASKED.get(key)
    if known is not None and all(a is b for a, b in zip(known[0], nodes, strict=True)):
        return known[1]
    fragments = raw.fragments
    seen: set[str] = set()

    def below(selection_set: SelectionSetNode | None) -> bool:
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                if node.name.value == name or below(node.selection_set):
                    return True
            elif isinstance(node, InlineFragmentNode):
                if below(node.selection_set):
                    return True
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                seen.add(node.name.value)
                fragment = fragments.get(node.name.value)
                if fragment is not None and below(fragment.selection_set):
                    return True
        return False

    found = any(node.name.value == name or below(node.selection_set) for node in nodes)
    _ASKED[key] = (nodes, found)
    return found


@strawberry.type(description="An artist with songs in the catalog.")
class Artist:
    id: strawberry.ID
    name: str

    @strawberry.field(
        description="The artist's image from Spotify (~320 px); null until one of their songs "
        "is enriched."
    )
    async def image_url(self, info: Info[Context, None]) -> str | None:
        return await info.context.loaders.spotify_artist_image.load(self.name)

    @strawberry.field(description="How many songs of this artist are in the catalog.")
    def song_count(self, info: Info[Context, None]) -> int:
        return info.context.services.browser.artist_song_count(str(self.id))

    @strawberry.field(description="The artist's songs in `order`.")
    async def songs(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        order: SongOrder = catalog_index.SongOrder.POPULARITY,  # type: ignore[valid-type]
    ) -> Connection[Song]:
        offset, limit = window(first, after)
        page = await info.context.services.browser.find_songs(
            offset=offset, limit=limit, song_filter=SongFilter(artist_id=str(self.id)), order=order
        )
        return Connection.of([Song.from_document(s) for s in page.items], page.offset, page.total)

    @strawberry.field(
        description=(
            "Artists like this one: how often their songs are played and listed together "
            "(the item graph) and how alike they sound, best first."
        )
    )
    async def similar_artists(self, info: Info[Context, None], first: int = 10) -> list[Artist]:
        check_page_size(first, maximum=MAX_SIMILAR_ARTISTS)
        found = await similar_artist_documents(info.context.services.radio, self.name, first)
        return [Artist.from_document(a) for a in found]

    @classmethod
    def from_document(cls, artist: documents.Artist) -> Artist:
        return cls(id=strawberry.ID(str(artist.id)), name=artist.name)


@strawberry.type(description="The logged-in listener's own account.")
class User:
    id: strawberry.ID
    email: str
    display_name: str
    role: Role  # type: ignore[valid-type]
    favourite_genres: list[str]
    favourite_moods: list[Mood]  # type: ignore[valid-type]
    preferred_languages: list[str] = strawberry.field(
        description="ISO 639-1 codes; songs in these languages are lifted in personal lists."
    )
    country: str | None = strawberry.field(
        description="ISO 3166-1 alpha-2 code; songs from this country are lifted too."
    )
    created_at: datetime

    @classmethod
    def from_document(cls, user: documents.User) -> User:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            favourite_genres=user.favourite_genres,
            favourite_moods=[
                MoodEnum(m) for m in user.favourite_moods if m in MoodEnum.__members__
            ],
            preferred_languages=user.preferred_languages,
            country=user.country,
            created_at=user.created_at,
        )


@strawberry.type(description="One thing a listener did with a song: a play, like, skip or rating.")
class Interaction:
    id: strawberry.ID
    kind: InteractionKind  # type: ignore[valid-type]
    rating: int | None
    played_seconds: int | None = strawberry.field(
        description="PLAY or SKIP: how many seconds of the song were played, when told."
    )
    created_at: datetime
    song_id: strawberry.Private[PydanticObjectId]

    @strawberry.field
    async def song(self, info: Info[Context, None]) -> Song | None:
        """Null when the song was deleted after the interaction was recorded."""
        song = await info.context.loaders.song.load(self.song_id)
        return Song.from_document(song) if song else None

    @classmethod
    def from_document(cls, interaction: documents.Interaction) -> Interaction:
        return cls(
            id=strawberry.ID(str(interaction.id)),
            kind=interaction.kind,
            rating=interaction.rating,
            played_seconds=interaction.played_seconds,
            created_at=interaction.created_at,
            song_id=interaction.song_id,
        )


@strawberry.type(description="One song of a served list, with why it was picked.")
class Recommendation:
    song: Song
    score: float = strawberry.field(
        description="The final score, after re-ranking, steering and debiasing, 0..1: higher is "
        "better, never rising down a list; comparable within one list."
    )
    source: RecommendationSource  # type: ignore[valid-type]
    reasons: list[str] = strawberry.field(
        description="Why this song, in words for the listener, each naming its evidence: "
        "playlists or listeners it shares with a named song, the caller's like or play of a "
        "song it sounds like, a mood region it is inside (or the closest the catalog has)."
    )
    list_id: strawberry.ID = strawberry.field(
        description="The served list this item belongs to: the same for every item of one list, "
        "new for each list. A play, like, skip or dislike of the song within 30 minutes counts "
        "for this list in the online metrics (`recommendationStats`, /metrics)."
    )

    @classmethod
    def from_result(cls, result: RecommendationResult, list_id: str) -> Recommendation:
        return cls(
            song=Song.from_document(result.song),
            score=result.score,
            source=result.source,
            reasons=result.reasons,
            list_id=strawberry.ID(list_id),
        )

    @classmethod
    def served(
        cls, context: Context, kind: documents.ListKind, results: Sequence[RecommendationResult]
    ) -> list[Recommendation]:
        """The items of one served list under one new list id, logged for online metrics."""
        list_id = context.services.served_lists.serve(
            context.user_id, kind, [(r.song.id, r.source.value) for r in results]
        )
        return [cls.from_result(result, list_id) for result in results]


@strawberry.type(
    description="What register, login and refreshToken answer: a token pair and the user."
)
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User


@strawberry.type(description="A genre and how many songs of the catalog have it.")
class Genre:
    name: str
    song_count: int


@strawberry.type(
    description="Where a Relay page stands: is there more, and the cursors to ask for it."
)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def for_page(cls, offset: int, count: int, has_next: bool) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=offset > 0,
            start_cursor=encode_cursor(offset) if count else None,
            end_cursor=encode_cursor(offset + count - 1) if count else None,
        )


NodeT = TypeVar("NodeT")


@strawberry.type(description="One item of a page and the cursor that resumes right after it.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Pass as `after` for the items after this one.")
    node: NodeT = strawberry.field(description="The item.")


# named after its node: Connection[Song] is SongConnection in the schema
@strawberry.type(description="A page of a longer list, Relay style.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The page's items, in order.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the list.")
    total_count: int = strawberry.field(description="Items in the whole list.")

    @classmethod
    def of(cls, nodes: Sequence[NodeT], offset: int, total: int) -> Connection[NodeT]:
        """The page of `nodes` that starts at `offset` in a list of `total`; a cursor past
        the end of the list (a crafted one: real cursors point at an item) is BAD_USER_INPUT."""
        if offset > total:
            raise BadUserInput("The cursor points past the end of the list.", field="after")
        edges = [Edge(cursor=encode_cursor(offset + i), node=node) for i, node in enumerate(nodes)]
        has_next = offset + len(edges) < total
        return cls(
            edges=edges,
            page_info=PageInfo.for_page(offset, len(edges), has_next),
            total_count=total,
        )


@strawberry.type(description="A listener as others see them: no email.")
class Listener:
    id: strawberry.ID
    display_name: str


@strawberry.type(description="A listener's playlist: its songs in order, public or private.")
class Playlist:
    id: strawberry.ID
    name: str
    description: str
    public: bool
    song_count: int
    created_at: datetime
    updated_at: datetime
    owner_id: strawberry.Private[PydanticObjectId]
    song_ids: strawberry.Private[list[PydanticObjectId]]

    @strawberry.field
    async def owner(self, info: Info[Context, None]) -> Listener | None:
        user = await info.context.loaders.user.load(self.owner_id)
        return (
            Listener(id=strawberry.ID(str(user.id)), display_name=user.display_name)
            if user
            else None
        )

    @strawberry.field(description="The songs in playlist order; deleted songs drop out.")
    async def songs(self, info: Info[Context, None]) -> list[Song]:
        charge_list(info, len(self.song_ids), LIST_SIZE_HINTS["Playlist.songs"])
        found = await info.context.loaders.song.load_many(self.song_ids)
        return [Song.from_document(song) for song in found if song is not None]

    @classmethod
    def from_document(cls, playlist: documents.Playlist) -> Playlist:
        return cls(
            id=strawberry.ID(str(playlist.id)),
            name=playlist.name,
            description=playlist.description,
            public=playlist.public,
            song_count=len(playlist.song_ids),
            created_at=playlist.created_at,
            updated_at=playlist.updated_at,
            owner_id=playlist.owner_id,
            song_ids=playlist.song_ids,
        )


@strawberry.type(
    description="Online metrics of one UTC day, list kind and source. Impressions are the songs "
    "served in lists of that day; a play, like, skip or dislike of a listed song within 30 "
    "minutes counts once for the list it was served in. Rates are counts over impressions."
)
class RecommendationStats:
    day: str = strawberry.field(description="ISO date (UTC) the lists were served on.")
    list: ListKind = strawberry.field(  # type: ignore[valid-type]
        description="Where the lists were served."
    )
    source: RecommendationSource = strawberry.field(  # type: ignore[valid-type]
        description="The signal that picked the songs."
    )
    impressions: int = strawberry.field(description="Songs served in these lists.")
    plays: int = strawberry.field(description="Listed songs played within 30 minutes.")
    likes: int = strawberry.field(description="Listed songs liked within 30 minutes.")
    skips: int = strawberry.field(description="Listed songs skipped within 30 minutes.")
    dislikes: int = strawberry.field(description="Listed songs disliked within 30 minutes.")
    play_rate: float = strawberry.field(description="plays / impressions, 4 decimals.")
    like_rate: float = strawberry.field(description="likes / impressions, 4 decimals.")
    skip_rate: float = strawberry.field(description="skips / impressions, 4 decimals.")
    dislike_rate: float = strawberry.field(description="dislikes / impressions, 4 decimals.")

    @classmethod
    def from_counts(cls, counts: ListCounts) -> RecommendationStats:
        return cls(
            day=counts.day,
            list=counts.kind,
            source=Source(counts.source),
            impressions=counts.impressions,
            plays=counts.plays,
            likes=counts.likes,
            skips=counts.skips,
            dislikes=counts.dislikes,
            play_rate=counts.rate(counts.plays),
            like_rate=counts.rate(counts.likes),
            skip_rate=counts.rate(counts.skips),
            dislike_rate=counts.rate(counts.dislikes),
        )
