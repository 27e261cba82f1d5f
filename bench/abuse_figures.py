"""The attacks of issue 15, timed against a running server: the "before/after" figures.

Each attack is sent as an attacker would (anonymous or from fresh accounts), bounded in
count, against 127.0.0.1 only. The figures printed (seconds, bytes, ranks) are the ones in
BENCHMARKS.md ("Abuse"). Start a server on the demo catalog first, e.g.

    MADHUR_DATA_DIR=/tmp/abuse MADHUR_PORT=8765 MADHUR_RECOMMENDER_REBUILD_MINUTES=0.25 \
        .venv/bin/madhur-gql serve &
    .venv/bin/python bench/abuse_figures.py --url http://127.0.0.1:8765 --pid <server pid>

`--pid` (the uvicorn process) adds its memory (RSS) to the genre-cache attack.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "correct horse battery"  # noqa: S105 - the bench accounts' password


def rss(pid: int | None) -> int | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


class Client:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(self, payload: Any, token: str | None = None) -> tuple[float, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        started = time.perf_counter()
        response = await self.http.post("/graphql", json=payload, headers=headers)
        seconds = time.perf_counter() - started
        try:
            return seconds, response.json()
        except ValueError:
            return seconds, {"status": response.status_code, "text": response.text[:200]}

    async def gql(self, query: str, variables: Any = None, token: str | None = None) -> Any:
        return (await self.post({"query": query, "variables": variables or {}}, token))[1]

    async def account(self) -> tuple[str, str]:
        email = f"abuse-{uuid.uuid4().hex[:10]}@example.com"
        body = await self.gql(
            "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }",
            {"i": {"email": email, "password": PASSWORD, "displayName": "A"}},
        )
        if body.get("errors"):
            raise RuntimeError(f"register refused: {body['errors']}")
        return body["data"]["register"]["accessToken"], body["data"]["register"]["user"]["id"]


def codes(body: Any) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def song_ids(client: Client, count: int, order: str = "POPULARITY") -> list[str]:
    ids: list[str] = []
    after = None
    while len(ids) < count:
        page = await client.gql(
            "query($a: String, $o: SongOrder!) { songs(first: 100, after: $a, order: $o) "
            "{ edges { cursor node { id } } } }",
            {"a": after, "o": order},
        )
        edges = page["data"]["songs"]["edges"]
        ids += [e["node"]["id"] for e in edges]
        after = edges[-1]["cursor"]
    return ids[:count]


async def playlists(client: Client, playlists: int, size: int) -> dict[str, Any]:
    """Public playlists of `size` songs, all read anonymously in one aliased query."""
    token, _ = await client.account()
    every = await song_ids(client, size * playlists)  # distinct songs: one $in of them all
    made = []
    for n in range(playlists):
        songs = every[n * size : (n + 1) * size]
        body = await client.gql(
            'mutation { createPlaylist(input: {name: "big", public: true}) { id } }', token=token
        )
        playlist = body["data"]["createPlaylist"]["id"]
        for start in range(0, size, 100):
            await client.gql(
                "mutation($p: ID!, $s: [ID!]!) { addSongsToPlaylist(id: $p, songIds: $s) { id } }",
                {"p": playlist, "s": songs[start : start + 100]},
                token=token,
            )
        made.append(playlist)
    query = (
        "{ "
        + " ".join(f'p{i}: playlist(id: "{p}") {{ songs {{ id }} }}' for i, p in enumerate(made))
        + " }"
    )
    seconds, body = await client.post({"query": query})
    returned = sum(len((v or {}).get("songs") or []) for v in (body.get("data") or {}).values())
    return {
        "seconds": round(seconds, 2),
        "songs_returned": returned,
        "codes": sorted(set(codes(body))),
    }


async def trending_search(client: Client, aliases: int) -> dict[str, Any]:
    fields = " ".join(
        f'a{i}: songs(first: 1, search: "{c}", order: TRENDING) {{ totalCount }}'
        for i, c in zip(range(aliases), "aeiounrstlmdkpgh", strict=False)
    )
    seconds, body = await client.post({"query": "{ " + fields + " }"})
    return {"seconds": round(seconds, 3), "codes": sorted(set(codes(body)))}


def big_document(kilobytes: int) -> str:
    fields = []
    size = 0
    i = 0
    while size < kilobytes * 1000:
        field = f"f{i}: __typename "
        fields.append(field)
        size += len(field)
        i += 1
    return "{ " + "".join(fields) + "}"


async def persisted_registration(client: Client, url: str, count: int) -> dict[str, Any]:
    document = big_document(95)
    digest = hashlib.sha256(document.encode()).hexdigest()
    payload = {
        "query": document,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
    }
    one, body = await client.post(payload)

    async def health() -> float:
        await asyncio.sleep(0.5)  # while the flood is being parsed
        started = time.perf_counter()
        await client.http.get("/healthz")
        return time.perf_counter() - started

    async with httpx.AsyncClient(base_url=url, timeout=120) as other:
        started = time.perf_counter()
        flood = [other.post("/graphql", json=payload) for _ in range(count)]
        results = await asyncio.gather(*flood, health())
        flood_seconds = time.perf_counter() - started
    cached = (await client.post({"extensions": payload["extensions"]}))[1]
    return {
        "one_seconds": round(one, 3),
        "codes": sorted(set(codes(body))),
        f"healthz_during_{count}_seconds": round(results[-1], 3),
        "flood_seconds": round(flood_seconds, 2),
        "hash_alone_afterwards": sorted(set(codes(cached))) or "runs",
    }


async def genre_cache(client: Client, pid: int | None, count: int) -> dict[str, Any]:
    token, _ = await client.account()
    before = rss(pid)
    started = time.perf_counter()
    refused = 0
    for i in range(count):
        genre = f"{i:06d}" + "g" * 44
        body = await client.gql(
            "query($g: String) { recommendations(first: 1, genre: $g) { score } }",
            {"g": genre},
            token,
        )
        refused += bool(body.get("errors"))
    after = rss(pid)
    long_genre = await client.gql(
        "query($g: String) { recommendations(first: 1, genre: $g) { score } }",
        {"g": "x" * 90_000},
        token,
    )
    return {
        "genres_sent": count,
        "refused": refused,
        "seconds": round(time.perf_counter() - started, 1),
        "rss_growth_mib": round((after - before) / 2**20, 1) if before and after else None,
        "90kB_genre": sorted(set(codes(long_genre))) or "accepted",
    }


async def trending_manipulation(client: Client, plays: int, listeners: int = 5) -> dict[str, Any]:
    """`listeners` fresh accounts play each of the five most popular songs once; then one
    fresh account plays an obscure song `plays` times. Before the fix it took `plays + 1`
    listeners to outrank it; after, one established listener or six fresh ones (log1p(300)
    x 0.1 = 0.57 of a listener): compare --trending-listeners 5 and 6."""
    ranked = await client.gql("{ trending(first: 100) { edges { node { id } } } }")
    first = [e["node"]["id"] for e in ranked["data"]["trending"]["edges"]]
    target = (await song_ids(client, 20_000, "TITLE"))[-1]  # obscure: last by title
    background = await song_ids(client, 5)
    for _ in range(listeners):
        token, _ = await client.account()
        for song in background:
            await client.gql(
                "mutation($s: ID!) { recordInteraction(input: {songId: $s, kind: PLAY}) { id } }",
                {"s": song},
                token,
            )
    attacker, _ = await client.account()
    mutation = (
        "mutation($s: ID!) { "
        + " ".join(
            f"p{i}: recordInteraction(input: {{songId: $s, kind: PLAY}}) {{ id }}"
            for i in range(10)
        )
        + " }"
    )
    for _ in range(plays // 10):
        await client.gql(mutation, {"s": target}, attacker)

    async def rank() -> int | None:
        page = await client.gql("{ trending(first: 100) { edges { node { id } } } }")
        ids = [e["node"]["id"] for e in page["data"]["trending"]["edges"]]
        return ids.index(target) + 1 if target in ids else None

    after_plays = await rank()
    await client.gql(f'mutation {{ deleteMe(password: "{PASSWORD}") }}', token=attacker)
    after_delete = await rank()
    return {
        "plays": plays,
        "background_listeners": listeners,
        "rank_before": first.index(target) + 1 if target in first else None,
        "rank_after_plays": after_plays,
        "rank_after_deleteMe": after_delete,
    }


async def shilling(client: Client, accounts: int, wait: float) -> dict[str, Any]:
    popular = (await song_ids(client, 1))[0]
    target = (await song_ids(client, 20_000, "TITLE"))[-2]
    for _ in range(accounts):
        token, _ = await client.account()
        for song in (popular, target):
            await client.gql("mutation($s: ID!) { like(songId: $s) { id } }", {"s": song}, token)
    victim, _ = await client.account()
    await client.gql("mutation($s: ID!) { like(songId: $s) { id } }", {"s": popular}, victim)
    await asyncio.sleep(wait)  # the item graph is learnt at the next rebuild

    similar = await client.gql(
        "query($s: ID!) { similarSongs(songId: $s, first: 20) { song { id } } }", {"s": popular}
    )
    ids = [r["song"]["id"] for r in similar["data"]["similarSongs"]]
    recs = await client.gql("{ recommendations(first: 20) { reasons song { id } } }", token=victim)
    picks = recs["data"]["recommendations"]
    victim_rank = next((i + 1 for i, r in enumerate(picks) if r["song"]["id"] == target), None)
    return {
        "fresh_accounts": accounts,
        "similarSongs_rank": ids.index(target) + 1 if target in ids else None,
        "victim_rank": victim_rank,
        "victim_reasons": picks[victim_rank - 1]["reasons"] if victim_rank else None,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--pid", type=int, default=None)
    parser.add_argument("--rebuild-wait", type=float, default=20.0)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--trending-listeners", type=int, default=5)
    args = parser.parse_args()
    async with httpx.AsyncClient(base_url=args.url, timeout=300) as http:
        client = Client(http)
        attacks = {
            "playlists_9x1000": lambda: playlists(client, 9, 1000),
            "search_trending_x15": lambda: trending_search(client, 15),
            "apq_95kB": lambda: persisted_registration(client, args.url, 20),
            "genre_cache_2000": lambda: genre_cache(client, args.pid, 2000),
            "trending_300_plays": lambda: trending_manipulation(
                client, 300, args.trending_listeners
            ),
            "shilling_12": lambda: shilling(client, 12, args.rebuild_wait),
        }
        for name, attack in attacks.items():
            if args.only and name not in args.only:
                continue
            try:
                result = await attack()
            except Exception as error:
                result = {"error": repr(error)[:300]}
            print(json.dumps({name: result}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
