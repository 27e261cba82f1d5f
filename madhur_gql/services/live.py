"""The one door into this process's memory: every change to what it holds comes through here.

Two sources bring changes: this process's own writes (applied the moment they are
acknowledged, so the caller reads them back at once) and the change streams (other workers,
replicas, imports, admin edits elsewhere, and the echo of our own writes). Both call the same
methods, which deduplicate: an interaction is applied once by its id whichever source brings
it first, counters are absolute values (applying one twice is harmless), and a LIKE that
changed nothing (the song was liked already) is history only, never fed to the recommender.
Each change updates, together, the catalog index, the song store (the read model), the
trending scores, the recommender, the listeners' standing and the accounts' cache.

Shared lists weigh listeners here and nowhere else: a play enters trending with its
listener's standing (a fresh or thin account counts `thin_weight`) and diminishing repeats
(services/catalog/trending.py); a deleted account's plays leave trending, its profile leaves
the recommender (whose next build drops it from the graphs) and its standing is forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from beanie import PydanticObjectId
from cachetools import FIFOCache

from madhur_gql.documents import Interaction, InteractionKind, User
from madhur_gql.services.accounts.service import AccountService
from madhur_gql.services.accounts.standing import ListenerStanding
from madhur_gql.services.catalog.index import CatalogIndex
from madhur_gql.services.catalog.store import SongStore
from madhur_gql.services.recommendations import RecommendationService

RECENT_INTERACTIONS = 100_000  # ids remembered for deduplication (minutes of traffic)


class LiveState:
    def __init__(
        self,
        index: CatalogIndex,
        songs: SongStore,
        recommendations: RecommendationService,
        accounts: AccountService | None = None,
        standing: ListenerStanding | None = None,
    ) -> None:
        self.index = index
        self.songs = songs
        self.recommendations = recommendations
        self.accounts = accounts
        # The recommender adopts the weights its builds compute; trending re-weighs with them.
        self.standing = standing or recommendations.standing
        self.standing.on_change(index.trending.reweigh)
        self._applied: FIFOCache[str, bool] = FIFOCache(maxsize=RECENT_INTERACTIONS)
        self.interactions_applied = 0
        self.duplicates_skipped = 0

    def interaction(self, interaction: Interaction) -> bool:
        """Apply one stored interaction; False when it was applied before (by either door)."""
        key = str(interaction.id)
        if key in self._applied:
            self.duplicates_skipped += 1
            return False
        self._applied[key] = True
        self.interactions_applied += 1
        if interaction.kind is InteractionKind.PLAY:
            self.replay_play(interaction)
        if not interaction.repeated:
            self.standing.observe_song(str(interaction.user_id), str(interaction.song_id))
            self.recommendations.record(interaction)
        return True

    def interaction_document(self, doc: Mapping[str, Any]) -> bool:
        """A stored interaction as a change stream brings it; the echo of one applied already
        (our own write, most of them) is recognised by its id before it is parsed."""
        if str(doc["_id"]) in self._applied:
            self.duplicates_skipped += 1
            return False
        return self.interaction(Interaction.model_validate(doc))

    def replay_play(self, play: Interaction) -> None:
        """A play into trending only, weighed by its listener's standing (also at start-up,
        from the stored recent plays, before the first build has adopted everyone's)."""
        listener = str(play.user_id)
        weight = self.standing.weight(listener)
        self.index.trending.add_play(str(play.song_id), play.created_at, listener, weight)

    def counters(
        self, song_id: PydanticObjectId, *, likes: int | None = None, plays: int | None = None
    ) -> None:
        self.index.set_counters(str(song_id), likes=likes, plays=plays)
        self.songs.set_counters(song_id, likes=likes, plays=plays)

    def holds_song(self, song_id: PydanticObjectId) -> bool:
        return song_id in self.songs

    def songs_changed(self, docs: Sequence[Mapping[str, Any]]) -> None:
        """Full song documents, new or edited."""
        for doc in docs:
            self.index.upsert(doc)
            self.songs.upsert(doc)
        self.recommendations.upsert_songs(docs)

    def songs_removed(self, song_ids: Sequence[PydanticObjectId]) -> None:
        for song_id in song_ids:
            self.index.remove(str(song_id))
            self.songs.remove(song_id)
        self.recommendations.remove_songs([str(song_id) for song_id in song_ids])

    def user_changed(self, user_id: object) -> None:
        """An account was edited, logged out everywhere or deleted: forget the cached copy."""
        if self.accounts is not None:
            self.accounts.forget_user(user_id)

    def account_seen(self, user: User) -> None:
        """The account's age, for its standing (a change stream's events carry only its id)."""
        self.standing.observe_account(str(user.id), user.created_at)

    def account_deleted(self, user_id: object) -> None:
        """What a deleted account added to shared lists comes back out (idempotent: both the
        deleting process and the users change stream bring it)."""
        listener = str(user_id)
        self.user_changed(listener)
        self.index.trending.forget_listener(listener)
        self.recommendations.forget_listener(listener)
        self.standing.forget(listener)
