"""Denial of service: no cheap request buys expensive work (issue 15).

Real sizes and real prices go into the cost (stored playlist lengths, searches, orders),
every parse applies the token limit, caches keyed by what clients send are bounded, and a
client that spends its budget is told when to come back. The time each attack cost before
and after is in BENCHMARKS.md ("Abuse"); these tests check the behaviour, not the clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import pytest

from madhur_gql.config import Settings
from madhur_gql.graphql import observer
from tests.conftest import GraphQLClient, LiveServer, make_settings
from tests.security.conftest import codes, new_account

SONG_IDS = "{ songs(first: 100) { edges { node { id } } } }"


async def _song_ids(client: GraphQLClient) -> list[str]:
    body = await client.data(SONG_IDS)
    return [e["node"]["id"] for e in body["songs"]["edges"]]


async def _public_playlist(client: GraphQLClient, token: str, songs: list[str], size: int) -> str:
    body = await client.execute(
        'mutation { createPlaylist(input: {name: "long", public: true}) { id } }', token=token
    )
    playlist: str = body["data"]["createPlaylist"]["id"]
    added = 0
    while added < size:
        batch = songs[: min(100, size - added)]
        body = await client.execute(
            "mutation($p: ID!, $s: [ID!]!) { addSongsToPlaylist(id: $p, songIds: $s) { songCount } }",
            {"p": playlist, "s": batch},
            token=token,
        )
        assert not body.get("errors"), body
        added += len(batch)
    return playlist


async def test_playlist_songs_cost_what_the_playlists_hold(client: GraphQLClient) -> None:
    """Twelve full public playlists read anonymously in one query: 12,000 songs that the
    estimate counted as 1,200. The real lengths are charged as the playlists are read."""
    owner = await new_account(client)
    songs = await _song_ids(client)
    full = await _public_playlist(client, owner.access_token, songs, 1000)
    one = await client.execute("query($p: ID!) { playlist(id: $p) { songs { id } } }", {"p": full})
    assert not one.get("errors") and len(one["data"]["playlist"]["songs"]) == 1000  # control
    many = (
        "{ "
        + " ".join(f'p{i}: playlist(id: "{full}") {{ songs {{ id }} }}' for i in range(12))
        + " }"
    )
    body = await client.execute(many)
    assert "QUERY_TOO_COMPLEX" in codes(body), codes(body)
    served = sum(len(v["songs"]) for v in (body.get("data") or {}).values() if v)
    assert served <= client_max_cost(client)


def client_max_cost(client: GraphQLClient) -> int:
    return 10_000  # the default budget (test_limits checks the defaults)


class OperationLog:
    """Stands in for the request log (tests run at WARNING): the lines it would write."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append({"event": event, **fields})

    def __getattr__(self, name: str) -> Any:
        return lambda event, **fields: None


@pytest.fixture
def operation_log(monkeypatch: pytest.MonkeyPatch) -> OperationLog:
    log = OperationLog()
    monkeypatch.setattr(observer, "log", log)
    return log


async def _cost(
    client: GraphQLClient, log: OperationLog, query: str, variables: dict[str, Any] | None = None
) -> int:
    log.lines.clear()
    body = await client.execute(query, variables)
    assert not body.get("errors"), body
    found = [e["cost"] for e in log.lines if e["event"] == "graphql operation"]
    assert len(found) == 1, log.lines
    return int(found[0])


async def test_the_estimate_follows_the_real_price(
    client: GraphQLClient, operation_log: OperationLog
) -> None:
    """The order of these costs is the order of their measured time (bench/cost_model.py)."""
    page = "edges { node { id } }"
    plain = await _cost(client, operation_log, f"{{ songs(first: 20) {{ {page} }} }}")
    search = await _cost(client, operation_log, f'{{ songs(first: 20, search: "a") {{ {page} }} }}')
    trending = await _cost(
        client, operation_log, f'{{ songs(first: 20, search: "a", order: TRENDING) {{ {page} }} }}'
    )
    assert plain < search < trending
    owner = await new_account(client)
    songs = await _song_ids(client)
    short = await _public_playlist(client, owner.access_token, songs, 10)
    long = await _public_playlist(client, owner.access_token, songs, 500)
    read = "query($p: ID!) { playlist(id: $p) { songs { id title } } }"
    assert await _cost(client, operation_log, read, {"p": short}) < await _cost(
        client, operation_log, read, {"p": long}
    )


@pytest.mark.parametrize(
    ("one", "many"),
    [
        (
            '{ radio(seed: {genre: "pop"}, first: 20) { edges { node { song { id } } } } }',
            "{ "
            + " ".join(
                f'a{i}: radio(seed: {{genre: "pop"}}, first: 20) {{ edges {{ node {{ song {{ id }} }} }} }}'
                for i in range(10)
            )
            + " }",
        ),
        (
            "{ moodJourney(from: CALM, to: PARTY, length: 20) { song { id } } }",
            "{ "
            + " ".join(
                f"a{i}: moodJourney(from: CALM, to: PARTY, length: 20) {{ song {{ id }} }}"
                for i in range(10)
            )
            + " }",
        ),
        (
            "{ myMixes(count: 4, size: 20) { songs { song { id } } } }",
            "{ "
            + " ".join(
                f"a{i}: myMixes(count: 4, size: 20) {{ songs {{ song {{ id }} }} }}"
                for i in range(4)
            )
            + " }",
        ),
        (
            "{ artists(first: 3) { edges { node { similarArtists(first: 10) { name } } } } }",
            "{ artists(first: 20) { edges { node { similarArtists(first: 10) { name } } } } }",
        ),
    ],
    ids=["radio", "moodJourney", "myMixes", "similarArtists"],
)
async def test_engine_fields_cost_what_the_engine_does(
    client: GraphQLClient, one: str, many: str
) -> None:
    """Stations, journeys, mixes and similar artists run the recommender (0.1-0.4 s each in
    bench/cost_model.py) but were priced as a few scalar fields: ten aliased stations in one
    query passed the check. One runs; many are over the limit before anything runs."""
    token = (await new_account(client)).access_token
    alone = await client.execute(one, token=token)
    assert not alone.get("errors"), alone
    body = await client.execute(many, token=token)
    assert codes(body) == ["QUERY_TOO_COMPLEX"], codes(body)
    assert body["errors"][0]["extensions"]["cost"] > client_max_cost(client)


async def test_a_persisted_query_is_parsed_within_the_token_limit(client: GraphQLClient) -> None:
    """A registration that sends a huge document under its own hash is refused like any
    other document over the limit, and nothing is stored under that hash."""
    document = "{ " + " ".join(f"f{i}: __typename" for i in range(5000)) + " }"
    digest = hashlib.sha256(document.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    response = await client.http.post("/graphql", json={"query": document, "extensions": persisted})
    body = response.json()
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"] and "tokens" in body["errors"][0]["message"]
    again = (await client.http.post("/graphql", json={"extensions": persisted})).json()
    assert codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_documents_that_cannot_run_are_not_kept(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    """Over the depth or alias limit, or refused for cost: parsed again next time (cheap,
    they are within the token limit), never held in the document cache."""
    persisted_cache = live_server.app.state.persisted_queries
    document_cache = live_server.app.state.document_cache
    deep = (
        "{ songs(first: 1) { edges { node { "
        + "artistProfile { songs(first: 1) { edges { node { " * 4
        + "id"
        + " } } } }" * 4
        + " } } } }"
    )
    aliased = "{ " + " ".join(f"g{i}: genres {{ name }}" for i in range(20)) + " }"
    costly = (
        "{ artists(first: 100) { edges { node { name"
        " songs(first: 100) { edges { node { id title } } } } } } }"
    )
    runnable = "{ genres { name songCount } }"

    def digest(document: str) -> str:
        return hashlib.sha256(document.encode()).hexdigest()

    for document in (deep, aliased, costly, runnable):
        persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest(document)}}
        await client.http.post("/graphql", json={"query": document, "extensions": persisted})
    assert runnable in document_cache and persisted_cache.get(digest(runnable)) == runnable
    for document in (deep, aliased, costly):
        assert document not in document_cache
        assert persisted_cache.get(digest(document)) is None


async def test_operation_names_are_cut_short_in_logs(
    client: GraphQLClient, operation_log: OperationLog
) -> None:
    name = "A" * 90_000
    await client.http.post("/graphql", json={"query": f"query {name} {{ __typename }}"})
    await client.http.post(
        "/graphql", json={"query": "{ __typename }", "operationName": "B" * 90_000}
    )
    lines = [e for e in operation_log.lines if e.get("event") == "graphql operation"]
    assert lines  # (the unknown-name request is refused before it is an operation)
    assert all(len(str(e["operation"])) <= 120 for e in lines), [
        len(str(e["operation"])) for e in lines
    ]


async def test_genre_input_is_capped_and_its_cache_bounded(
    client: GraphQLClient, live_server: LiveServer
) -> None:
    account = await new_account(client)
    query = "query($g: String) { recommendations(first: 1, genre: $g) { score } }"
    long = await client.execute(query, {"g": "g" * 5000}, token=account.access_token)
    assert codes(long) == ["BAD_USER_INPUT"] and long["errors"][0]["extensions"]["field"] == "genre"
    for i in range(300):
        await client.execute(query, {"g": f"made-up genre {i}"}, token=account.access_token)
    known = len((await client.data("{ genres { name } }"))["genres"])
    cached = live_server.app.state.services.recommendations.stats()["genre_masks"]
    assert cached <= known


async def _server(mongo_uri: str, database: str, **overrides: Any) -> LiveServer:
    server = LiveServer(make_settings(mongo_uri, database, **overrides))
    await server.start()
    await server.wait_ready()
    return server


async def test_a_client_that_spends_its_budget_waits(
    client: GraphQLClient, settings: Settings
) -> None:
    """Per address and per account: the budget is cost over time (a token bucket)."""
    import httpx

    server = await _server(
        settings.mongodb_uri or "",
        settings.database_name,
        MADHUR_CLIENT_COST_BUDGET=2000,
        MADHUR_CLIENT_COST_WINDOW_SECONDS=600,
        MADHUR_FORWARDED_ALLOW_IPS="127.0.0.1",
    )
    page = "{ songs(first: 100) { edges { node { id title artist album genres } } } }"
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

            async def ask(address: str, token: str | None = None) -> dict[str, Any]:
                headers = {"x-forwarded-for": address}
                if token:
                    headers["authorization"] = f"Bearer {token}"
                response = await http.post("/graphql", json={"query": page}, headers=headers)
                assert response.status_code == 200
                return dict(response.json())

            first = [await ask("203.0.113.7") for _ in range(4)]
            refused = [b for b in first if codes(b) == ["TOO_MANY_REQUESTS"]]
            assert not first[0].get("errors") and refused, [codes(b) for b in first]
            assert refused[0]["errors"][0]["extensions"]["retryAfter"] >= 1
            assert not (await ask("203.0.113.8")).get("errors")  # another address: its own budget
            user = await GraphQLClient(http).data(
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
                {
                    "i": {
                        "email": f"budget-{uuid.uuid4().hex[:8]}@example.com",
                        "password": "correct horse battery",
                        "displayName": "B",
                    }
                },
            )
            token = user["register"]["accessToken"]
            spent = [
                await ask(f"198.51.100.{i}", token) for i in range(4)
            ]  # one account, many addresses
            assert codes(spent[-1]) == ["TOO_MANY_REQUESTS"], [codes(b) for b in spent]
    finally:
        await server.stop()


async def test_an_operation_has_a_deadline(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    server = await _server(
        settings.mongodb_uri or "", settings.database_name, MADHUR_OPERATION_TIMEOUT_SECONDS=0.5
    )
    catalog = server.app.state.services.browser
    original = catalog.find_songs

    async def slow(**kwargs: Any) -> Any:
        await asyncio.sleep(5)
        return await original(**kwargs)

    monkeypatch.setattr(catalog, "find_songs", slow)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            body = (await http.post("/graphql", json={"query": SONG_IDS})).json()
            assert codes(body) == ["REQUEST_TIMEOUT"] and body["data"] is None
            ok = (await http.post("/graphql", json={"query": "{ genres { name } }"})).json()
            assert not ok.get("errors") and ok["data"]["genres"]
    finally:
        await server.stop()
