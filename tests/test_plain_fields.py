"""Plain fields read in place (graphql/execution.py) answer exactly as graphql-core's own path.

Each query goes to the running server twice over HTTP: once as it serves (the plain path),
once with the schema switched to Strawberry's stock executor. Bodies must be identical (a
recommendation list's `listId` is new for every list served, so it is left out), data and
errors alike: nested objects, lists, aliases, fragments, @include/@skip, enums, nulls, and
errors raised below plainly completed objects and lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Route
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from madhur_gql.graphql.execution import FastFieldsExecutor
from tests.conftest import GraphQLClient, LiveServer, register_user

SONG_FIELDS = """id trackId title artist album genres releaseDate popularity durationMs
  playCount likeCount language country likedByMe"""
QUERIES = {
    "every plain song field, a page": f"""{{ songs(first: 15, search: "love") {{ totalCount
        pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
        edges {{ cursor node {{ {SONG_FIELDS} audioFeatures {{ valence energy key mode }} }} }} }} }}""",
    "aliases, a field asked twice, __typename": """{ a: songs(first: 3) { edges { n: node {
        t: title title id __typename } } } b: songs(first: 2, after: "bzE6MQ==") { n: totalCount
        edges { node { title t: title likeCount } } } }""",
    "named and inline fragments, nested": """query { songs(first: 5, order: TITLE) {
        ...page } } fragment page on SongConnection { totalCount edges { ...edge } }
        fragment edge on SongEdge { cursor node { ... on Song { id title } ...songBits } }
        fragment songBits on Song { artist genres title likedByMe }""",
    "@include and @skip by variable": """query($yes: Boolean!, $no: Boolean!) {
        songs(first: 4) { totalCount @skip(if: $yes) edges { node { id @include(if: $yes)
        title @include(if: $no) artist @skip(if: $no) likeCount @skip(if: $yes) } } } }""",
    "objects below resolvers, below plain lists": """{ songs(first: 6) { edges { node {
        title artistProfile { id name songCount songs(first: 2) { totalCount
        edges { node { id title } } } } versions { id title } } } } }""",
    "an error below a plain list and object, nulling a nullable field": """{ songs(first: 3) {
        totalCount edges { cursor node { id title artistProfile { name
        similarArtists(first: 9999) { name } } } } } }""",
    "an error in a non-null root field next to a good one": """{ good: songs(first: 2) {
        edges { node { id } } } bad: songs(first: 9999) { totalCount } }""",
    "recommendations: enums, lists of strings, nested objects": """{ recommendations(first: 20)
        { score source reasons song { id title artist genres likeCount } } }""",
    "the account: enums in lists, nulls": """{ me { id email displayName role favouriteGenres
        favouriteMoods preferredLanguages country createdAt } }""",
    "liked songs and the history: enum fields, objects by loader": """{ myLikedSongs(first: 5) {
        totalCount edges { node { id title likedByMe } } } myHistory(first: 5) { totalCount
        edges { node { kind rating playedSeconds song { id title likedByMe } } } } }""",
}
VARIABLES = {
    "@include and @skip by variable": [{"yes": True, "no": False}, {"yes": False, "no": True}]
}


def _graphql_schema(server: LiveServer) -> Any:
    route = next(r for r in server.app.routes if isinstance(r, Route) and r.path == "/graphql")
    return route.endpoint.schema  # type: ignore[attr-defined]


@pytest.fixture
def stock(live_server: LiveServer) -> Iterator[Any]:
    """A switch of the running schema to Strawberry's own executor, put back afterwards."""
    schema = _graphql_schema(live_server)
    assert schema.execution_context_class is FastFieldsExecutor
    yield schema
    schema.execution_context_class = FastFieldsExecutor


def without_list_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_list_ids(v) for k, v in value.items() if k != "listId"}
    if isinstance(value, list):
        return [without_list_ids(v) for v in value]
    return value


async def liked_listener(client: GraphQLClient) -> str:
    token: str = (await register_user(client))["accessToken"]
    page = await client.data("{ songs(first: 6) { edges { node { id } } } }")
    record = "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { id } }"
    for i, edge in enumerate(page["songs"]["edges"]):
        kind = "LIKE" if i % 2 == 0 else "PLAY"
        body = await client.execute(
            record, {"i": {"songId": edge["node"]["id"], "kind": kind}}, token=token
        )
        assert not body.get("errors"), body
    return token


@pytest.mark.parametrize("name", list(QUERIES))
async def test_the_plain_path_answers_as_the_stock_executor(
    client: GraphQLClient, stock: Any, name: str
) -> None:
    token = await liked_listener(client)
    for variables in VARIABLES.get(name, [{}]):
        for caller in (token, None):
            stock.execution_context_class = FastFieldsExecutor
            plain = await client.execute(QUERIES[name], variables, token=caller)
            stock.execution_context_class = StrawberryGraphQLCoreExecutionContext
            normal = await client.execute(QUERIES[name], variables, token=caller)
            assert without_list_ids(plain) == without_list_ids(normal)
            assert plain.get("data") is not None or plain.get("errors")


async def test_errors_below_plain_fields_keep_their_paths_and_null_the_nearest_nullable(
    client: GraphQLClient,
) -> None:
    body = await client.execute(
        QUERIES["an error below a plain list and object, nulling a nullable field"]
    )
    edges = body["data"]["songs"]["edges"]
    assert len(edges) == 3 and all(edge["node"]["artistProfile"] is None for edge in edges)
    assert all(edge["node"]["title"] and edge["cursor"] for edge in edges)
    paths = sorted(tuple(error["path"]) for error in body["errors"])
    assert paths == [
        ("songs", "edges", i, "node", "artistProfile", "similarArtists") for i in range(3)
    ]
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_USER_INPUT"}

    body = await client.execute(QUERIES["an error in a non-null root field next to a good one"])
    assert body["data"] is None  # a non-null root field failed: the whole answer is null
    assert [error["path"] for error in body["errors"]] == [["bad"]]


async def test_likes_read_in_place_are_the_callers_own(client: GraphQLClient) -> None:
    token = await liked_listener(client)
    query = "{ songs(first: 6) { edges { node { id likedByMe } } } }"
    mine = (await client.execute(query, token=token))["data"]["songs"]["edges"]
    assert [edge["node"]["likedByMe"] for edge in mine] == [True, False] * 3
    anonymous = (await client.execute(query))["data"]["songs"]["edges"]
    assert not any(edge["node"]["likedByMe"] for edge in anonymous)
