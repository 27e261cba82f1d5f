"""Recording what listeners do: stored first, then fed to counters and the recommender at once."""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from madhur_gql.documents import Interaction, InteractionKind, Song, User
from madhur_gql.errors import BadUserInput, NotFound
from madhur_gql.services import likes
from madhur_gql.services.catalog_index import Catalog
from madhur_gql.services.counters import increment
from madhur_gql.services.ids import parse_object_id
from madhur_gql.services.pagination import Page, fetch_page
from madhur_gql.services.recommendations import RecommendationService

MAX_IDEMPOTENCY_KEY = 100


class Listening:
    def __init__(self, catalog: Catalog, recommendations: RecommendationService) -> None:
        self.catalog = catalog
        self.recommendations = recommendations

    async def record(
        self,
        user: User,
        song_id: str,
        kind: InteractionKind,
        rating: int | None = None,
        idempotency_key: str | None = None,
    ) -> Interaction:
        """Store the interaction; a retry with the same idempotency key returns the first one."""
        assert user.id is not None
        validate_rating(kind, rating)
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise BadUserInput(
                f"idempotencyKey must be 1..{MAX_IDEMPOTENCY_KEY} characters.",
                field="idempotencyKey",
            )
        song_oid = await self._existing_song(song_id)
        interaction = Interaction(
            user_id=user.id,
            song_id=song_oid,
            kind=kind,
            rating=rating,
            idempotency_key=idempotency_key,
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
        await self._apply(interaction)
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

    async def _apply(self, interaction: Interaction) -> None:
        """Counters and the recommender follow the stored interaction."""
        song_key = str(interaction.song_id)
        if interaction.kind is InteractionKind.PLAY:
            plays = await increment(interaction.song_id, "play_count")
            if plays is not None:
                self.catalog.index.set_counters(song_key, plays=plays)
            self.catalog.index.trending.add_play(song_key, interaction.created_at)
        elif interaction.kind in (InteractionKind.LIKE, InteractionKind.UNLIKE):
            change = likes.like if interaction.kind is InteractionKind.LIKE else likes.unlike
            count = await change(interaction.user_id, interaction.song_id)
            if count is None:
                return  # liking twice is one like; unliking twice one unlike
            self.catalog.index.set_counters(song_key, likes=count)
            if interaction.id is None:
                await interaction.insert()
        self.recommendations.record(interaction)


def validate_rating(kind: InteractionKind, rating: int | None) -> None:
    if kind is InteractionKind.RATING:
        if rating is None or not 1 <= rating <= 5:
            raise BadUserInput("A RATING needs 'rating' between 1 and 5.", field="rating")
    elif rating is not None:
        raise BadUserInput("'rating' is only allowed with kind RATING.", field="rating")


async def user_history(
    user_id: PydanticObjectId, *, first: int, after: str | None
) -> Page[Interaction]:
    """The user's interactions, newest first."""
    query = Interaction.find(Interaction.user_id == user_id)
    return await fetch_page(query, first=first, after=after)
