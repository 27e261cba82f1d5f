"""Recording what listeners do: stored first (group-committed), then applied to memory at once.

Writes go through the process's `GroupCommit`, so concurrent plays, likes and their counter
updates share commits (and fsyncs); each caller still waits for its own acknowledgement. The
acknowledged write is then applied through the one door into memory (`services/live.py`), so
the caller reads it back at once; the change stream's echo of it is recognised there.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from beanie.odm.utils.dump import get_dict

from madhur_gql.db.group_commit import GroupCommit, Increment
from madhur_gql.documents import Interaction, InteractionKind, Like, Song, User
from madhur_gql.domain.ids import parse_object_id
from madhur_gql.errors import BadUserInput, NotFound
from madhur_gql.services.live import LiveState
from madhur_gql.services.paging import Page, fetch_page
from madhur_gql.services.recommendations.served_lists import ServedLists

MAX_IDEMPOTENCY_KEY = 100
MAX_PLAYED_SECONDS = 24 * 3600
TIMED_KINDS = (InteractionKind.PLAY, InteractionKind.SKIP)
SONGS = Song.Settings.name
LIKES = Like.Settings.name
INTERACTIONS = Interaction.Settings.name


def _bson(document: Interaction | Like) -> dict[str, Any]:
    document.id = document.id or PydanticObjectId()
    encoded: dict[str, Any] = get_dict(document, to_db=True)
    return encoded


class ListeningHistory:
    """Writes to a listener's history; each write moves counters, trending and the recommender."""

    def __init__(self, live: LiveState, commit: GroupCommit, served_lists: ServedLists) -> None:
        self.live = live
        self.commit = commit
        self.served_lists = served_lists

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
        self.live.account_seen(user)
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
            share = self.played_share(song_oid, played_seconds)
        interaction = Interaction(
            user_id=user.id,
            song_id=song_oid,
            kind=kind,
            rating=rating,
            idempotency_key=idempotency_key,
            played_seconds=played_seconds,
            played_share=share,
        )
        if kind in (InteractionKind.LIKE, InteractionKind.UNLIKE):
            interaction.repeated = not await self._change_like(user.id, song_oid, kind)
        then = Increment(SONGS, song_oid, "play_count") if kind is InteractionKind.PLAY else None
        outcome = await self.commit.insert(INTERACTIONS, _bson(interaction), then=then)
        if outcome is False or (outcome is None and then is not None and idempotency_key):
            # The idempotency key's unique index refused it: a retry; answer with the first.
            # (A retried LIKE changed nothing above: the song was liked by the first.)
            first = await self._first_with_key(user.id, idempotency_key)
            if first is not None:
                return first
        if then is not None and isinstance(outcome, int) and not isinstance(outcome, bool):
            self.live.counters(song_oid, plays=outcome)
        await self._applied(interaction, list_id)
        return interaction

    async def like(self, user: User, song_id: str) -> PydanticObjectId:
        return await self._favourite(user, song_id, InteractionKind.LIKE)

    async def unlike(self, user: User, song_id: str) -> PydanticObjectId:
        return await self._favourite(user, song_id, InteractionKind.UNLIKE)

    async def _favourite(self, user: User, song_id: str, kind: InteractionKind) -> PydanticObjectId:
        """Idempotent: only a real change is stored in the history and fed on."""
        assert user.id is not None
        self.live.account_seen(user)
        song_oid = await self._existing_song(song_id)
        interaction = Interaction(user_id=user.id, song_id=song_oid, kind=kind)
        if await self._change_like(user.id, song_oid, kind, recorded=interaction):
            await self._applied(interaction)
        return song_oid

    async def _applied(self, interaction: Interaction, list_id: str | None = None) -> None:
        """The stored interaction into memory (the one door) and the online metrics."""
        self.live.interaction(interaction)
        self.served_lists.attribute_soon(
            interaction.user_id,
            interaction.song_id,
            interaction.kind,
            interaction.created_at,
            list_id,
        )

    async def _change_like(
        self,
        user_id: PydanticObjectId,
        song_id: PydanticObjectId,
        kind: InteractionKind,
        recorded: Interaction | None = None,
    ) -> bool:
        """Like or unlike; False when it changed nothing (liked twice, unliked twice).

        `recorded`, the history entry of a real change, is stored in the same commit."""
        follow = (INTERACTIONS, _bson(recorded)) if recorded is not None else None
        if kind is InteractionKind.LIKE:
            like = Like(user_id=user_id, song_id=song_id)
            bump = Increment(SONGS, song_id, "like_count", 1)
            count = await self.commit.insert(LIKES, _bson(like), then=bump, follow=follow)
        else:
            bump = Increment(SONGS, song_id, "like_count", -1)
            query = {"user_id": user_id, "song_id": song_id}
            count = await self.commit.delete_one(LIKES, query, then=bump, follow=follow)
        if count is None or isinstance(count, bool):
            return False
        self.live.counters(song_id, likes=count)
        return True

    async def _existing_song(self, song_id: str) -> PydanticObjectId:
        song_oid = parse_object_id(song_id, field="songId")
        if not await self.live.songs.exists(song_oid):
            raise NotFound(f"No song with id '{song_id}'.")
        return song_oid

    def played_share(self, song_id: PydanticObjectId, played_seconds: int) -> float | None:
        """The share of the song that was played (None when its duration is unknown)."""
        song = self.live.songs.cached(song_id)
        duration = song.duration_ms if song is not None else 0
        if duration <= 0:
            return None
        return min(played_seconds * 1000 / duration, 1.0)

    async def _first_with_key(
        self, user_id: PydanticObjectId, key: str | None
    ) -> Interaction | None:
        if key is None:
            return None
        return await Interaction.find_one(
            Interaction.user_id == user_id, Interaction.idempotency_key == key
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


async def user_history(user_id: PydanticObjectId, *, offset: int, limit: int) -> Page[Interaction]:
    """The user's interactions, newest first."""
    query = Interaction.find(Interaction.user_id == user_id)
    return await fetch_page(query, offset=offset, limit=limit)
