"""Each file in examples/operations runs by itself, as a reader pastes it into GraphiQL or curl.

Alone, each validates against schema.graphql (its fragments inside it) and holds one operation
named after the file (the name codegen gives its document); sent alone to a live server, each
answers without errors.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    FragmentDefinitionNode,
    OperationDefinitionNode,
    build_schema,
    parse,
    print_ast,
    validate,
)
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from madhur_gql.documents import User
from tests.conftest import GraphQLClient, LiveServer

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ROOT / "examples" / "operations"
FILES = sorted(OPERATIONS.glob("*.graphql"))
SCHEMA = build_schema((ROOT / "schema.graphql").read_text())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_validates_alone(path: Path) -> None:
    document = parse(path.read_text())
    errors = validate(SCHEMA, document)
    assert not errors, [error.message for error in errors]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert [op.name.value for op in operations if op.name] == [path.stem]


def test_a_fragment_reads_the_same_in_every_file_that_has_it() -> None:
    texts: dict[str, set[str]] = defaultdict(set)
    for path in FILES:
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, FragmentDefinitionNode):
                texts[definition.name.value].add(print_ast(definition))
    assert {"Session", "SongCard", "RecommendationItem"} <= texts.keys()
    assert {name: len(found) for name, found in texts.items() if len(found) > 1} == {}


async def subscribe_once(
    server: LiveServer, name: str, variables: dict[str, Any], token: str
) -> Any:
    """A subscription file sent alone over graphql-transport-ws: its first answer."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        query = (OPERATIONS / f"{name}.graphql").read_text()
        payload = {"query": query, "variables": variables}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message["type"] == "next" and not message["payload"].get("errors"), message
    return message["payload"]["data"]


async def test_each_file_sent_alone_answers(client: GraphQLClient, live_server: LiveServer) -> None:
    ran: list[str] = []

    async def send(name: str, variables: dict[str, Any], token: str | None = None) -> Any:
        body = await client.execute(
            (OPERATIONS / f"{name}.graphql").read_text(), variables, token=token
        )
        assert not body.get("errors"), (name, body["errors"])
        ran.append(name)
        return body["data"]

    credentials = {"email": "examples@example.com", "password": "correct horse battery"}
    session = (await send("Register", {"input": {**credentials, "displayName": "Ravi"}}))[
        "register"
    ]
    assert (await send("Login", credentials))["login"]["user"]["id"] == session["user"]["id"]
    refreshed = (await send("RefreshToken", {"refreshToken": session["refreshToken"]}))[
        "refreshToken"
    ]
    token = refreshed["accessToken"]
    assert (await send("Me", {}, token))["me"]["email"] == credentials["email"]

    songs = (await send("Songs", {"first": 3, "search": "love"}))["songs"]["edges"]
    song_id = songs[0]["node"]["id"]
    assert (await send("Song", {"id": song_id}))["song"]["audioFeatures"]["energy"] is not None
    await send("RecordInteraction", {"input": {"songId": song_id, "kind": "LIKE"}}, token)
    history = (await send("MyHistory", {}, token))["myHistory"]["edges"]
    assert [edge["node"]["song"]["id"] for edge in history] == [song_id]
    picks = (await send("Recommendations", {"first": 5, "mood": "HAPPY"}, token))["recommendations"]
    assert picks
    assert (await send("SimilarSongs", {"songId": song_id, "first": 5}))["similarSongs"]
    steered = {"first": 5, "seedGenres": ["pop"], "audio": {"energy": {"min": 0.3}}}
    assert (await send("SteeredRecommendations", steered, token))["recommendations"]
    radio = (await send("Radio", {"seed": {"genre": "pop"}, "first": 3}, token))["radio"]
    after = radio["pageInfo"]["endCursor"]
    more = {"seed": {"genre": "pop"}, "first": 3, "after": after}
    assert (await send("Radio", more, token))["radio"]["edges"]
    journey = {"from": "SAD", "to": "HAPPY", "length": 6}
    assert len((await send("MoodJourney", journey, token))["moodJourney"]) == 6
    assert (await send("MyMixes", {"count": 2, "size": 3}, token))["myMixes"]
    profile = await client.data(
        "query($id: ID!) { song(id: $id) { artistProfile { id } } }", {"id": song_id}
    )
    artist = profile["song"]["artistProfile"]["id"]
    assert (await send("SimilarArtists", {"id": artist, "first": 3}))["artist"]["similarArtists"]
    await send("HideArtist", {"artistId": artist}, token)
    assert (await send("MyHiddenArtists", {}, token))["myHiddenArtists"][0]["id"] == artist
    await send("UnhideArtist", {"artistId": artist}, token)
    await send("Dislike", {"songId": songs[1]["node"]["id"]}, token)

    listed = [pick["song"]["id"] for pick in picks]
    saved = (await send("SaveList", {"name": "Saved", "songIds": listed}, token))["createPlaylist"]
    assert [song["id"] for song in saved["songs"]] == listed
    local = (await send("LocalSongs", {"language": "ne", "first": 5}))["songs"]
    assert local["totalCount"] == 0  # the demo catalog knows no song's language
    me = await send("UpdateMyLocale", {"preferredLanguages": ["ne"], "country": "np"}, token)
    assert me["updateMe"]["country"] == "NP"
    await User.get_pymongo_collection().update_one(
        {"email": credentials["email"]}, {"$set": {"role": "ADMIN"}}
    )
    for _ in range(50):  # impressions are written in batches, every half second
        stats = (await send("RecommendationStats", {"days": 1}, token))["recommendationStats"]
        if {row["list"] for row in stats} >= {"RECOMMENDATIONS"}:
            break
        await asyncio.sleep(0.1)
    assert {row["list"] for row in stats} >= {"RECOMMENDATIONS"}
    live = await subscribe_once(live_server, "RecommendationsUpdated", {"first": 3}, token)
    assert len(live["recommendationsUpdated"]) == 3
    ran.append("RecommendationsUpdated")

    assert sorted(set(ran)) == [path.stem for path in FILES], "every example file is sent"
