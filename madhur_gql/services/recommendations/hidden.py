"""Hidden artists: "don't play this artist" for one listener, in every personal list."""

from __future__ import annotations

from madhur_gql.documents import Artist, User
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.errors import BadUserInput, NotFound

MAX_HIDDEN_ARTISTS = 500


async def get_artist(artist_id: str, *, field: str) -> Artist:
    artist = await Artist.get(parse_object_id(artist_id, field=field))
    if artist is None:
        raise NotFound(f"No artist with id '{artist_id}'.")
    return artist


async def hide_artist(user: User, artist_id: str) -> Artist:
    """Hide an artist (idempotent); NOT_FOUND for an unknown one."""
    artist = await get_artist(artist_id, field="artistId")
    assert artist.id is not None and user.id is not None
    if artist.id not in user.hidden_artist_ids:
        if len(user.hidden_artist_ids) >= MAX_HIDDEN_ARTISTS:
            raise BadUserInput(
                f"At most {MAX_HIDDEN_ARTISTS} hidden artists; unhide one first.", field="artistId"
            )
        await User.get_pymongo_collection().update_one(
            {"_id": user.id}, {"$addToSet": {"hidden_artist_ids": artist.id}}
        )
        user.hidden_artist_ids.append(artist.id)
    return artist


async def unhide_artist(user: User, artist_id: str) -> Artist:
    """Let an artist back into the listener's lists (idempotent)."""
    artist = await get_artist(artist_id, field="artistId")
    assert artist.id is not None and user.id is not None
    await User.get_pymongo_collection().update_one(
        {"_id": user.id}, {"$pull": {"hidden_artist_ids": artist.id}}
    )
    user.hidden_artist_ids[:] = [a for a in user.hidden_artist_ids if a != artist.id]
    return artist


async def hidden_artists(user: User) -> list[Artist]:
    """The listener's hidden artists, in the order they were hidden (deleted ones drop out)."""
    if not user.hidden_artist_ids:
        return []
    found = {a.id: a for a in await Artist.find({"_id": {"$in": user.hidden_artist_ids}}).to_list()}
    return [found[i] for i in user.hidden_artist_ids if i in found]
