"""Does the cost estimate track the real price? Several expensive shapes, timed, against their cost.

Each shape is sent `--repeat` times (one client, sequential) to a server on the demo catalog;
the cost of each operation is read from the server's request log (the `cost` field of its
"graphql operation" line: the estimate plus what resolvers charged). Printed: the median time,
the cost, the time per cost unit, and the rank correlation (Spearman) between cost and time.
A cost model that tracks the price has a correlation near 1 and a time per unit that stays
within a small factor across shapes.

    MADHUR_DATA_DIR=/tmp/abuse MADHUR_PORT=8766 MADHUR_LOG_LEVEL=INFO MADHUR_LOG_JSON=true \
        MADHUR_CLIENT_COST_BUDGET=0 .venv/bin/madhur-gql serve > /tmp/abuse/server.log 2>&1 &
    .venv/bin/python bench/cost_model.py --url http://127.0.0.1:8766 --log /tmp/abuse/server.log
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from scipy.stats import spearmanr

PASSWORD = "correct horse battery"  # noqa: S105 - the bench account's password


async def gql(
    http: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.json()


async def setup(http: httpx.AsyncClient) -> dict[str, str]:
    email = f"cost-{uuid.uuid4().hex[:8]}@example.com"
    body = await gql(
        http,
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        i={"email": email, "password": PASSWORD, "displayName": "C"},
    )
    token = body["data"]["register"]["accessToken"]
    ids: list[str] = []
    after = None
    while len(ids) < 1000:
        page = await gql(
            http,
            "query($a: String) { songs(first: 100, after: $a) { edges { cursor node { id } } } }",
            a=after,
        )
        if not page.get("data"):
            raise RuntimeError(f"songs page refused: {page}")
        edges = page["data"]["songs"]["edges"]
        ids += [e["node"]["id"] for e in edges]
        after = edges[-1]["cursor"]
    for song in ids[:20]:
        await gql(http, "mutation($s: ID!) { like(songId: $s) { id } }", token, s=song)
    playlists = {}
    for size in (100, 1000):
        created = await gql(
            http, 'mutation { createPlaylist(input: {name: "cost", public: true}) { id } }', token
        )
        playlist = created["data"]["createPlaylist"]["id"]
        for start in range(0, size, 100):
            await gql(
                http,
                "mutation($p: ID!, $s: [ID!]!) { addSongsToPlaylist(id: $p, songIds: $s) { id } }",
                token,
                p=playlist,
                s=ids[start : start + 100],
            )
        playlists[size] = playlist
    return {"token": token, "song": ids[0], "p100": playlists[100], "p1000": playlists[1000]}


def shapes(world: dict[str, str]) -> dict[str, tuple[str, bool]]:
    """name -> (document, needs the listener's token)."""
    node = "id title artist album genres likeCount"
    return {
        "songs20": (
            f"query songs20 {{ songs(first: 20) {{ edges {{ node {{ {node} }} }} }} }}",
            False,
        ),
        "songs100": (
            f"query songs100 {{ songs(first: 100) {{ edges {{ node {{ {node} }} }} }} }}",
            False,
        ),
        "search": (
            f'query search {{ songs(first: 20, search: "love") {{ edges {{ node {{ {node} }} }} }} }}',
            False,
        ),
        "trending": (
            f"query trending {{ songs(first: 20, order: TRENDING) {{ edges {{ node {{ {node} }} }} }} }}",
            False,
        ),
        "searchTrending": (
            f'query searchTrending {{ songs(first: 20, search: "a", order: TRENDING) '
            f"{{ edges {{ node {{ {node} }} }} }} }}",
            False,
        ),
        "searchTrending5": (
            "query searchTrending5 { "
            + " ".join(
                f'a{i}: songs(first: 1, search: "{c}", order: TRENDING) {{ totalCount }}'
                for i, c in enumerate("aeiou")
            )
            + " }",
            False,
        ),
        "recommendations": (
            "query recommendations { recommendations(first: 20) { score reasons song { id title } } }",
            True,
        ),
        "similar": (
            f'query similar {{ similarSongs(songId: "{world["song"]}", first: 20) {{ score song {{ id title }} }} }}',
            False,
        ),
        "playlist100": (
            f'query playlist100 {{ playlist(id: "{world["p100"]}") {{ songs {{ id title }} }} }}',
            False,
        ),
        "playlist1000": (
            f'query playlist1000 {{ playlist(id: "{world["p1000"]}") {{ songs {{ id title }} }} }}',
            False,
        ),
        "radio": (
            f'query radio {{ radio(seed: {{songId: "{world["song"]}"}}, first: 20) '
            "{ edges { node { score song { id title } } } } }",
            True,
        ),
        "moodJourney": (
            "query moodJourney { moodJourney(from: CALM, to: PARTY, length: 20) "
            "{ score song { id title } } }",
            True,
        ),
        "myMixes": (
            "query myMixes { myMixes(count: 4, size: 20) { title songs { score song { id title } } } }",
            True,
        ),
        "similarArtists": (
            "query similarArtists { artists(first: 5) { edges { node { name "
            "similarArtists(first: 10) { name } } } } }",
            False,
        ),
        "artistsNested": (
            "query artistsNested { artists(first: 30) { edges { node { name "
            "songs(first: 10) { edges { node { id title } } } } } } }",
            False,
        ),
    }


def logged_costs(log: Path, since: int) -> dict[str, list[int]]:
    costs: dict[str, list[int]] = {}
    with log.open() as lines:
        lines.seek(since)
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == "graphql operation" and "cost" in entry:
                costs.setdefault(entry["operation"], []).append(int(entry["cost"]))
    return costs


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8766")
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    async with httpx.AsyncClient(base_url=args.url, timeout=300) as http:
        world = await setup(http)
        start = args.log.stat().st_size
        times: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for name, (document, personal) in shapes(world).items():
                began = time.perf_counter()
                body = await gql(http, document, world["token"] if personal else None)
                times.setdefault(name, []).append(time.perf_counter() - began)
                if body.get("errors"):
                    print(f"{name}: {body['errors'][0]['extensions'].get('code')}")
        await asyncio.sleep(0.5)  # the last log lines
    costs = logged_costs(args.log, start)
    rows = []
    for name, samples in times.items():
        cost = statistics.median(costs.get(name, [0]))
        ms = statistics.median(samples) * 1000
        rows.append((name, cost, ms))
    print(f"{'shape':<18}{'cost':>8}{'median ms':>12}{'us/unit':>10}")
    for name, cost, ms in sorted(rows, key=lambda r: r[1]):
        print(f"{name:<18}{cost:>8.0f}{ms:>12.1f}{(ms * 1000 / cost if cost else 0):>10.1f}")
    rho = spearmanr([r[1] for r in rows], [r[2] for r in rows]).statistic
    print(f"Spearman rank correlation of cost and time: {rho:.2f} over {len(rows)} shapes")


if __name__ == "__main__":
    asyncio.run(main())
