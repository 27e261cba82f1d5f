"""Who may call what: every Query and Mutation field, as anonymous, user and admin.

The table below must classify EVERY root field of the schema (read by introspection): an
operation added without a row fails `test_every_operation_is_classified` until someone
decides who may call it. Each row gives the document and a factory for minimal valid
arguments; the matrix test then calls it as each caller and checks the answer:

    PUBLIC  anyone, no error
    USER    anonymous -> UNAUTHENTICATED; user and admin -> no error
    ADMIN   anonymous -> UNAUTHENTICATED; user -> FORBIDDEN; admin -> no error

Each call gets fresh accounts, so destructive rows (deleteMe, logoutEverywhere) are safe.
To add a row: the field's "Type.field" name, its access, a document using `$` variables,
and, when it needs ids, an async `args(world, caller)` returning the variables.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pytest

from madhur_gql.documents import Role
from tests.conftest import GraphQLClient
from tests.security.conftest import PASSWORD, Account, codes, new_account


class Access(Enum):
    PUBLIC = "public"
    USER = "user"
    ADMIN = "admin"


@dataclass
class World:
    """Things the rows need: a catalog song, an artist, and ways to make owned objects."""

    client: GraphQLClient
    admin: Account | None = None
    song_id: str = ""
    other_song_id: str = ""
    artist_id: str = ""

    async def playlist(self, owner: Account, public: bool = False, songs: int = 0) -> str:
        body = await self.client.execute(
            "mutation($i: CreatePlaylistInput!) { createPlaylist(input: $i) { id } }",
            {"i": {"name": f"p-{uuid.uuid4().hex[:6]}", "public": public}},
            token=owner.access_token,
        )
        playlist_id: str = body["data"]["createPlaylist"]["id"]
        if songs:
            ids = [self.song_id, self.other_song_id][:songs]
            await self.client.execute(
                "mutation($p: ID!, $s: [ID!]!) { addSongsToPlaylist(id: $p, songIds: $s) { id } }",
                {"p": playlist_id, "s": ids},
                token=owner.access_token,
            )
        return playlist_id

    async def new_song(self, admin: Account) -> str:
        body = await self.client.execute(
            "mutation($i: SongInput!) { createSong(input: $i) { id } }",
            {"i": song_input()},
            token=admin.access_token,
        )
        song_id: str = body["data"]["createSong"]["id"]
        return song_id

    async def new_artist(self, admin: Account) -> str:
        body = await self.client.execute(
            "mutation($n: String!) { createArtist(name: $n) { id } }",
            {"n": f"Artist {uuid.uuid4().hex[:8]}"},
            token=admin.access_token,
        )
        artist_id: str = body["data"]["createArtist"]["id"]
        return artist_id


def song_input() -> dict[str, Any]:
    return {
        "trackId": uuid.uuid4().hex[:22],
        "title": "Matrix Song",
        "artist": "Matrix Artist",
        "audioFeatures": {
            "danceability": 0.5,
            "energy": 0.5,
            "valence": 0.5,
            "tempo": 120,
            "acousticness": 0.1,
        },
    }


@dataclass
class Caller:
    """Who is calling; `account` is the caller's own (anonymous callers get a bystander's,
    so that rows needing an owned object still have well-formed arguments)."""

    role: str
    account: Account
    admin: Account  # an admin of the world, for rows that need admin-made objects
    token: str | None


Args = Callable[[World, Caller], Awaitable[dict[str, Any]]]


async def no_args(world: World, caller: Caller) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Row:
    access: Access
    document: str
    args: Args = field(default=no_args)
    websocket: bool = False  # a subscription: its access is checked over graphql-transport-ws


def _song(world: World, caller: Caller) -> Awaitable[dict[str, Any]]:
    async def make() -> dict[str, Any]:
        return {"s": world.song_id}

    return make()


async def _own_playlist(world: World, caller: Caller) -> dict[str, Any]:
    return {"p": await world.playlist(caller.account, songs=2), "s": world.song_id}


async def _own_session(world: World, caller: Caller) -> dict[str, Any]:
    body = await world.client.execute("{ mySessions { id } }", token=caller.account.access_token)
    return {"s": body["data"]["mySessions"][0]["id"]}


async def _credentials(world: World, caller: Caller) -> dict[str, Any]:
    return {"e": caller.account.email, "p": PASSWORD}


async def _refresh(world: World, caller: Caller) -> dict[str, Any]:
    return {"t": caller.account.refresh_token}


async def _new_email(world: World, caller: Caller) -> dict[str, Any]:
    return {"e": f"matrix-{uuid.uuid4().hex[:8]}@example.com"}


async def _public_playlist(world: World, caller: Caller) -> dict[str, Any]:
    return {"p": await world.playlist(caller.admin, public=True)}


async def _artist(world: World, caller: Caller) -> dict[str, Any]:
    return {"a": world.artist_id}


async def _new_song(world: World, caller: Caller) -> dict[str, Any]:
    return {"s": await world.new_song(caller.admin)}


async def _new_artist(world: World, caller: Caller) -> dict[str, Any]:
    return {"a": await world.new_artist(caller.admin), "n": f"Renamed {uuid.uuid4().hex[:8]}"}


async def _song_input(world: World, caller: Caller) -> dict[str, Any]:
    return {"i": song_input()}


P, U, A = Access.PUBLIC, Access.USER, Access.ADMIN
OPERATIONS: dict[str, Row] = {
    # Accounts
    "Query.me": Row(U, "{ me { id } }"),
    "Mutation.register": Row(
        P,
        "mutation($e: String!) { register(input: {email: $e, password: "
        '"correct horse battery", displayName: "M"}) { accessToken } }',
        _new_email,
    ),
    "Mutation.login": Row(
        P,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
        _credentials,
    ),
    "Mutation.refreshToken": Row(
        P, "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }", _refresh
    ),
    "Mutation.logout": Row(P, "mutation($t: String!) { logout(refreshToken: $t) }", _refresh),
    "Mutation.logoutEverywhere": Row(U, "mutation { logoutEverywhere }"),
    "Mutation.changePassword": Row(
        U,
        'mutation { changePassword(current: "correct horse battery",'
        ' new: "another fine passphrase") { accessToken } }',
    ),
    "Mutation.updateMe": Row(U, 'mutation { updateMe(input: {displayName: "N"}) { id } }'),
    "Mutation.deleteMe": Row(U, 'mutation { deleteMe(password: "correct horse battery") }'),
    "Query.mySessions": Row(U, "{ mySessions { id } }"),
    "Mutation.revokeSession": Row(U, "mutation($s: ID!) { revokeSession(id: $s) }", _own_session),
    # Catalog
    "Query.song": Row(P, "query($s: ID!) { song(id: $s) { id } }", _song),
    "Query.songs": Row(P, "{ songs(first: 2) { totalCount } }"),
    "Query.genres": Row(P, "{ genres { name } }"),
    "Query.artists": Row(P, "{ artists(first: 2) { totalCount } }"),
    "Query.artist": Row(P, "query($a: ID!) { artist(id: $a) { id } }", _artist),
    "Query.trending": Row(P, "{ trending(first: 2) { totalCount } }"),
    "Query.popular": Row(P, "{ popular(first: 2) { totalCount } }"),
    "Query.similarSongs": Row(
        P, "query($s: ID!) { similarSongs(songId: $s, first: 2) { score } }", _song
    ),
    # The caller's own library and history
    "Query.myHistory": Row(U, "{ myHistory(first: 2) { totalCount } }"),
    "Query.myLikedSongs": Row(U, "{ myLikedSongs(first: 2) { totalCount } }"),
    "Query.myPlaylists": Row(U, "{ myPlaylists(first: 2) { totalCount } }"),
    "Query.playlist": Row(P, "query($p: ID!) { playlist(id: $p) { id } }", _public_playlist),
    "Query.recommendations": Row(U, "{ recommendations(first: 2) { score } }"),
    "Mutation.recordInteraction": Row(
        U,
        "mutation($s: ID!) { recordInteraction(input: {songId: $s, kind: PLAY}) { id } }",
        _song,
    ),
    "Query.radio": Row(U, '{ radio(seed: {genre: "pop"}, first: 2) { totalCount } }'),
    "Query.moodJourney": Row(U, "{ moodJourney(from: SAD, to: HAPPY, length: 6) { score } }"),
    "Query.myMixes": Row(U, "{ myMixes(count: 1, size: 2) { id } }"),
    "Query.myHiddenArtists": Row(U, "{ myHiddenArtists { id } }"),
    "Mutation.hideArtist": Row(U, "mutation($a: ID!) { hideArtist(artistId: $a) { id } }", _artist),
    "Mutation.unhideArtist": Row(
        U, "mutation($a: ID!) { unhideArtist(artistId: $a) { id } }", _artist
    ),
    "Mutation.like": Row(U, "mutation($s: ID!) { like(songId: $s) { id } }", _song),
    "Mutation.unlike": Row(U, "mutation($s: ID!) { unlike(songId: $s) { id } }", _song),
    "Mutation.createPlaylist": Row(U, 'mutation { createPlaylist(input: {name: "x"}) { id } }'),
    "Mutation.updatePlaylist": Row(
        U,
        'mutation($p: ID!) { updatePlaylist(id: $p, input: {name: "y"}) { id } }',
        _own_playlist,
    ),
    "Mutation.deletePlaylist": Row(
        U, "mutation($p: ID!) { deletePlaylist(id: $p) }", _own_playlist
    ),
    "Mutation.addSongsToPlaylist": Row(
        U,
        "mutation($p: ID!, $s: ID!) { addSongsToPlaylist(id: $p, songIds: [$s]) { id } }",
        _own_playlist,
    ),
    "Mutation.removeSongsFromPlaylist": Row(
        U,
        "mutation($p: ID!, $s: ID!) { removeSongsFromPlaylist(id: $p, songIds: [$s]) { id } }",
        _own_playlist,
    ),
    "Mutation.moveSongInPlaylist": Row(
        U,
        "mutation($p: ID!, $s: ID!) { moveSongInPlaylist(id: $p, songId: $s, position: 1) { id } }",
        _own_playlist,
    ),
    # Administration
    "Mutation.createSong": Row(
        A, "mutation($i: SongInput!) { createSong(input: $i) { id } }", _song_input
    ),
    "Mutation.updateSong": Row(
        A, 'mutation($s: ID!) { updateSong(id: $s, input: {title: "T"}) { id } }', _new_song
    ),
    "Mutation.deleteSong": Row(A, "mutation($s: ID!) { deleteSong(id: $s) }", _new_song),
    "Mutation.createArtist": Row(
        A,
        "mutation($e: String!) { createArtist(name: $e) { id } }",
        _new_email,  # any fresh unique string
    ),
    "Mutation.updateArtist": Row(
        A,
        "mutation($a: ID!, $n: String!) { updateArtist(id: $a, name: $n) { id } }",
        _new_artist,
    ),
    "Mutation.deleteArtist": Row(A, "mutation($a: ID!) { deleteArtist(id: $a) }", _new_artist),
    "Query.recommendationStats": Row(A, "{ recommendationStats(days: 1) { day } }"),
    # Subscriptions: tests/test_live_lists.py checks anonymous (UNAUTHENTICATED), a bad token
    # (closed at connection_init) and a listener (their own list only).
    "Subscription.recommendationsUpdated": Row(
        U, "subscription { recommendationsUpdated(first: 2) { score } }", websocket=True
    ),
}

ROOT_FIELDS = """
{ q: __type(name: "Query") { fields { name } } m: __type(name: "Mutation") { fields { name } }
  s: __type(name: "Subscription") { fields { name } } }
"""


async def _schema_operations(client: GraphQLClient) -> set[str]:
    body = await client.data(ROOT_FIELDS)
    names = set()
    for key, type_name in (("q", "Query"), ("m", "Mutation"), ("s", "Subscription")):
        for item in (body[key] or {}).get("fields") or []:
            names.add(f"{type_name}.{item['name']}")
    return names


async def test_every_operation_is_classified(client: GraphQLClient) -> None:
    in_schema = await _schema_operations(client)
    unclassified = sorted(in_schema - OPERATIONS.keys())
    assert not unclassified, (
        f"classify these operations in OPERATIONS (tests/security/test_authorization.py): "
        f"{unclassified}"
    )
    assert not OPERATIONS.keys() - in_schema, "rows for operations that no longer exist"


@pytest.fixture(scope="module")
async def world(client: GraphQLClient) -> World:
    world = World(client, admin=await new_account(client, Role.ADMIN))
    songs = await client.data("{ songs(first: 2) { edges { node { id } } } }")
    world.song_id, world.other_song_id = (e["node"]["id"] for e in songs["songs"]["edges"])
    artists = await client.data("{ artists(first: 1) { edges { node { id } } } }")
    world.artist_id = artists["artists"]["edges"][0]["node"]["id"]
    return world


async def _caller(world: World, role: str) -> Caller:
    assert world.admin is not None
    if role == "anonymous":
        return Caller(role, await new_account(world.client), world.admin, None)
    account = await new_account(world.client, Role.ADMIN if role == "admin" else Role.USER)
    return Caller(role, account, world.admin, account.access_token)


def _expected(access: Access, role: str) -> str | None:
    if access is Access.PUBLIC or (access is Access.USER and role != "anonymous"):
        return None
    if role == "anonymous":
        return "UNAUTHENTICATED"
    return None if role == "admin" else "FORBIDDEN"


@pytest.mark.parametrize("role", ["anonymous", "user", "admin"])
async def test_authorization_matrix(client: GraphQLClient, world: World, role: str) -> None:
    wrong = {}

    for name, row in OPERATIONS.items():
        if row.websocket:
            continue
        caller = await _caller(world, role)
        variables = await row.args(world, caller)
        body = await client.execute(row.document, variables, token=caller.token)
        expected = _expected(row.access, role)
        field_name = name.split(".", 1)[1]
        if expected is None:
            if body.get("errors") or body["data"][field_name] is None:
                wrong[name] = body
        elif codes(body) != [expected] or body["data"] is not None:
            wrong[name] = body
    assert not wrong, f"as {role}: {wrong}"


# --- object-level authorization (IDOR) -----------------------------------------------------


async def test_another_users_private_objects_answer_not_found(
    client: GraphQLClient, world: World
) -> None:
    alice, bob = await new_account(client), await new_account(client)
    private = await world.playlist(alice, songs=2)
    public = await world.playlist(alice, public=True, songs=2)
    missing = "0" * 24

    def as_bob(document: str, variables: dict[str, Any]) -> Awaitable[dict[str, Any]]:
        return client.execute(document, variables, token=bob.access_token)

    read = "query($p: ID!) { playlist(id: $p) { id name songs { id } } }"
    for playlist_id in (private, missing):
        body = await as_bob(read, {"p": playlist_id})
        assert codes(body) == ["NOT_FOUND"] and body["data"] is None
    assert codes(await client.execute(read, {"p": private})) == ["NOT_FOUND"]  # anonymous
    assert (await as_bob(read, {"p": public}))["data"]["playlist"]["id"] == public

    writes = [
        'mutation($p: ID!) { updatePlaylist(id: $p, input: {name: "pwned"}) { id } }',
        "mutation($p: ID!) { deletePlaylist(id: $p) }",
        "mutation($p: ID!, $s: ID!) { addSongsToPlaylist(id: $p, songIds: [$s]) { id } }",
        "mutation($p: ID!, $s: ID!) { removeSongsFromPlaylist(id: $p, songIds: [$s]) { id } }",
        "mutation($p: ID!, $s: ID!) { moveSongInPlaylist(id: $p, songId: $s, position: 1) { id } }",
    ]
    for document in writes:
        for playlist_id in (private, public):
            body = await as_bob(document, {"p": playlist_id, "s": world.song_id})
            assert codes(body) == ["NOT_FOUND"], (document, body)
    # Nothing changed for Alice.
    mine = await client.execute(read, {"p": private}, token=alice.access_token)
    assert mine["data"]["playlist"]["name"].startswith("p-")
    assert len(mine["data"]["playlist"]["songs"]) == 2


async def test_another_users_session_cannot_be_seen_or_ended(client: GraphQLClient) -> None:
    alice, bob = await new_account(client), await new_account(client)
    sessions = "{ mySessions { id } }"
    alices = (await client.execute(sessions, token=alice.access_token))["data"]["mySessions"]
    bobs = (await client.execute(sessions, token=bob.access_token))["data"]["mySessions"]
    assert len(alices) == len(bobs) == 1 and alices != bobs
    body = await client.execute(
        "mutation($s: ID!) { revokeSession(id: $s) }",
        {"s": alices[0]["id"]},
        token=bob.access_token,
    )
    assert codes(body) == ["NOT_FOUND"]
    refreshed = await client.execute(
        "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
        {"t": alice.refresh_token},
    )
    assert refreshed["data"]["refreshToken"]["accessToken"]  # Alice's session lives on


async def test_lists_of_mine_hold_only_mine(client: GraphQLClient, world: World) -> None:
    alice, bob = await new_account(client), await new_account(client)
    await client.execute(
        "mutation($s: ID!) { recordInteraction(input: {songId: $s, kind: PLAY}) { id } }",
        {"s": world.song_id},
        token=alice.access_token,
    )
    await client.execute(
        "mutation($s: ID!) { like(songId: $s) { id } }",
        {"s": world.song_id},
        token=alice.access_token,
    )
    await world.playlist(alice, public=True)
    body = await client.execute(
        "{ myHistory { totalCount } myLikedSongs { totalCount } myPlaylists { totalCount } }",
        token=bob.access_token,
    )
    assert body["data"] == {
        "myHistory": {"totalCount": 0},
        "myLikedSongs": {"totalCount": 0},
        "myPlaylists": {"totalCount": 0},
    }


async def test_owners_are_shown_without_private_fields(client: GraphQLClient, world: World) -> None:
    alice = await new_account(client)
    public = await world.playlist(alice, public=True)
    shown = await client.execute(
        "query($p: ID!) { playlist(id: $p) { owner { id displayName } } }", {"p": public}
    )
    assert shown["data"]["playlist"]["owner"]["id"] == alice.id
    leak = await client.execute(
        "query($p: ID!) { playlist(id: $p) { owner { email } } }", {"p": public}
    )
    assert codes(leak) == ["GRAPHQL_VALIDATION_FAILED"]
