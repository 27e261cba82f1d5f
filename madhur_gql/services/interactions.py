"""Recording what listeners do, and feeding it to the recommender at once."""

from __future__ import annotations

from beanie import PydanticObjectId

from madhur_gql.documents import Interaction, InteractionKind, Song, User
from madhur_gql.errors import BadUserInput, NotFound
from madhur_gql.services.ids import parse_object_id
from madhur_gql.services.pagination import check_page_size, decode_cursor
from madhur_gql.services.recommendations import RecommendationService


async def record_interaction(
    recommendations: RecommendationService,
    user: User,
    song_id: str,
    kind: InteractionKind,
    rating: int | None = None,
) -> Interaction:
    assert user.id is not None
    if kind is InteractionKind.RATING:
        if rating is None or not 1 <= rating <= 5:
            raise BadUserInput("A RATING needs 'rating' between 1 and 5.", field="rating")
    elif rating is not None:
        raise BadUserInput("'rating' is only allowed with kind RATING.", field="rating")
    song_oid = parse_object_id(song_id, field="songId")
    if not await Song.find_one(Song.id == song_oid).exists():
        raise NotFound(f"No song with id '{song_id}'.")
    interaction = Interaction(user_id=user.id, song_id=song_oid, kind=kind, rating=rating)
    await interaction.insert()
    if kind is InteractionKind.PLAY:
        await Song.find_one(Song.id == song_oid).inc({Song.play_count: 1})
    recommendations.record(interaction)
    return interaction


async def user_history(
    user_id: PydanticObjectId, *, first: int, after: str | None
) -> tuple[list[Interaction], int, int]:
    """A page of the user's interactions, newest first: (items, offset, total)."""
    check_page_size(first)
    offset = decode_cursor(after)
    query = Interaction.find(Interaction.user_id == user_id)
    total = await query.count()
    items = (
        await Interaction.find(Interaction.user_id == user_id)
        .sort([("created_at", -1), ("_id", -1)])
        .skip(offset)
        .limit(first)
        .to_list()
    )
    return items, offset, total
