"""Recording what listeners do: stored first, then fed to counters and the recommender at once."""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from madhur_gql.documents import Interaction, InteractionKind, Song, User
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.errors import BadUserInput, NotFound
from madhur_gql.services.accounts.standing import ListenerStanding
from madhur_gql.services.catalog.counters import increment
from madhur_gql.services.catalog.index import CatalogIndex
from madhur_gql.services.library import likes
from madhur_gql.services.paging import Page, fetch_page
from madhur_gql.services.recommendations import RecommendationService
from madhur_gql.services.recommendations.served_lists import ServedLists

MAX_IDEMPOTENCY_KEY = 100
MAX_PLAYED_SECONDS = 24 * 3600
TIMED_KINDS = (InteractionKind.PLAY, InteractionKind.SKIP)


class ListeningHistory:
    """Writes to a listener's history; each write moves counters, trending and the recommender."""

    def __init__(
        self,
        index: CatalogIndex,
        recommendations: RecommendationService,
        served_lists: ServedLists,
        standing: ListenerStanding | None = None,
    ) -> None:
        self.index = index
        self.recommendations = recommendations
        self.served_lists = served_lists
        self.standing = standing or ListenerStanding()

    async def add(
        self,
        user: User,
        song_id: str,
        kind: InteractionKind,
        rating: int | None = None,
        idempotency_key: str | None = None,
        played_seconds: int | None = None,
        list_id: str | None = None,
    ) -> Interaction:
        """Store the interaction; a retry with the same idempotency key returns the first one.

        ``played_seconds`` (PLAY, SKIP) is how far the listener got: a skip in the first
        seconds counts more than a late one, and a partial play feeds the taste with its share
        of the song.
        """
        assert user.id is not None
        self.standing.observe_account(str(user.id), user.created_at)
        validate_rating(kind, rating)
        validate_played_seconds(kind, played_seconds)
        if list_id is not None:
            list_id = str(parse_object_id(list_id, field="listId"))
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise BadUserInput(
                f"idempotencyKey must be 1..{MAX_IDEMPOTENCY_KEY} characters.",
                field="idempotencyKey",
            )
        song_oid = await self._existing_song(song_id)
        share = None
        if played_seconds is not None and kind is InteractionKind.PLAY:
            share = await played_share(song_oid, played_seconds)
        interaction = Interaction(
            user_id=user.id,
            song_id=song_oid,
            kind=kind,
            rating=rating,
            idempotency_key=idempotency_key,
            played_seconds=played_seconds,
            played_share=share,
        )
        try:
            await interaction.insert()
        except DuplicateKeyError:
            first = await Interaction.find_one(
                Interaction.user_id == user.id, Interaction.idempotency_key == idempotency_key
            )
            if first is None:  # pragma: no cover - the index said it exists
                raise
            return first
        await self._apply(interaction, list_id)
        return interaction

    async def like(self, user: User, song_id: str) -> PydanticObjectId:
        return await self._favourite(user, song_id, InteractionKind.LIKE)

    async def unlike(self, user: User, song_id: str) -> PydanticObjectId:
        return await self._favourite(user, song_id, InteractionKind.UNLIKE)

    async def _favourite(self, user: User, song_id: str, kind: InteractionKind) -> PydanticObjectId:
        assert user.id is not None
        song_oid = await self._existing_song(song_id)
        interaction = Interaction(user_id=user.id, song_id=song_oid, kind=kind)
        await self._apply(interaction)
        return song_oid

    async def _existing_song(self, song_id: str) -> PydanticObjectId:
        song_oid = parse_object_id(song_id, field="songId")
        if not await Song.find_one(Song.id == song_oid).exists():
            raise NotFound(f"No song with id '{song_id}'.")
        return song_oid

    async def _apply(self, interaction: Interaction, list_id: str | None = None) -> None:
        """Counters, trending (weighed by the listener's standing), the recommender and the
        online metrics follow the stored interaction."""
        song_key = str(interaction.song_id)
        if interaction.kind is InteractionKind.PLAY:
            plays = await increment(interaction.song_id, "play_count")
            if plays is not None:
                self.index.set_counters(song_key, plays=plays)
            listener = str(interaction.user_id)
            weight = self.standing.weight(listener)
            self.index.trending.add_play(song_key, interaction.created_at, listener, weight)
        elif interaction.kind in (InteractionKind.LIKE, InteractionKind.UNLIKE):
            change = likes.like if interaction.kind is InteractionKind.LIKE else likes.unlike
            count = await change(interaction.user_id, interaction.song_id)
            if count is None:
                return  # liking twice is one like; unliking twice one unlike
            self.index.set_counters(song_key, likes=count)
            if interaction.id is None:
                await interaction.insert()
        self.standing.observe_song(str(interaction.user_id), song_key)
        self.recommendations.record(interaction)
        await self.served_lists.attribute_soon(
            interaction.user_id,
            interaction.song_id,
            interaction.kind,
            interaction.created_at,
            list_id,
        )


def validate_rating(kind: InteractionKind, rating: int | None) -> None:
    if kind is InteractionKind.RATING:
        if rating is None or not 1 <= rating <= 5:
            raise BadUserInput("A RATING needs 'rating' between 1 and 5.", field="rating")
    elif rating is not None:
        raise BadUserInput("'rating' is only allowed with kind RATING.", field="rating")


def validate_played_seconds(kind: InteractionKind, played_seconds: int | None) -> None:
    if played_seconds is None:
        return
    if kind not in TIMED_KINDS:
        raise BadUserInput(
            "'playedSeconds' is only allowed with PLAY or SKIP.", field="playedSeconds"
        )
    if not 0 <= played_seconds <= MAX_PLAYED_SECONDS:
        raise BadUserInput(
            f"'playedSeconds' must be between 0 and {MAX_PLAYED_SECONDS}.", field="playedSeconds"
        )


async def played_share(song_id: PydanticObjectId, played_seconds: int) -> float | None:
    """The share of the song that was played (None when its duration is unknown)."""
    doc = await Song.get_pymongo_collection().find_one({"_id": song_id}, {"duration_ms": 1})
    duration = (doc or {}).get("duration_ms") or 0
    if duration <= 0:
        return None
    return min(played_seconds * 1000 / duration, 1.0)


async def user_history(user_id: PydanticObjectId, *, offset: int, limit: int) -> Page[Interaction]:
    """The user's interactions, newest first."""
    query = Interaction.find(Interaction.user_id == user_id)
    return await fetch_page(query, offset=offset, limit=limit)
