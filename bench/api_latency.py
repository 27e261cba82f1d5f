"""Latency of one listener's requests through the whole HTTP stack, on the full catalog.

Starts `madhur-gql serve` on a fresh embedded database (the demo catalog, 28k songs), gives a
listener a history of likes and plays, then times sequential requests from one client: the
HTTP + GraphQL + recommender path that a phone sees, without queueing behind other users.

    .venv/bin/python bench/api_latency.py --requests 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "madhur-gql"
sys.path.insert(0, str(ROOT))

from madhur_gql.db.embedded import free_port  # noqa: E402

OPERATIONS = {
    "recommendations(first: 20)": "{ recommendations(first: 20) { score source reasons song { id title artist } } }",
    "recommendations(first: 20, mood: CALM)": "{ recommendations(first: 20, mood: CALM) { score song { id } } }",
    "similarSongs(first: 20)": '{ similarSongs(songId: "%s", first: 20) { score song { id title } } }',
    "songs(first: 20, search)": '{ songs(first: 20, search: "love") { totalCount edges { node { id title artist } } } }',
    "songs(first: 20, filter)": '{ songs(first: 20, filter: {genre: "pop", energy: {min: 0.7}}) { totalCount edges { node { id } } } }',
    "recordInteraction(PLAY)": 'mutation { recordInteraction(input: {songId: "%s", kind: PLAY}) { id } }',
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **os.environ,
            "MADHUR_DATA_DIR": tmp,
            "MADHUR_PORT": str(port),
            "MADHUR_LOG_LEVEL": "WARNING",
            "MADHUR_JWT_SECRET": "bench-" + "k" * 40,
            # one client address plays every listener: no per-address limits
            "MADHUR_CLIENT_COST_BUDGET": "0",
            "MADHUR_REGISTER_MAX_PER_ADDRESS": "1000000",
        }
        env.pop("MONGODB_URI", None)
        server = subprocess.Popen(
            [str(CLI), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            report = measure(f"http://127.0.0.1:{port}", args.requests)
        finally:
            server.terminate()
            server.wait(60)
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")


def measure(url: str, requests: int) -> dict[str, object]:
    with httpx.Client(base_url=url, timeout=60) as http:
        deadline = time.time() + 600
        while True:
            try:
                if http.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.time() < deadline, "server not ready"
            time.sleep(0.5)
        registered = http.post(
            "/graphql",
            json={
                "query": 'mutation { register(input: {email: "bench@example.com", password: "quiet-river-orchard-7413", displayName: "B"}) { accessToken } }'
            },
        ).json()
        assert registered.get("data"), registered
        token = registered["data"]["register"]["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        songs = http.post(
            "/graphql",
            json={"query": '{ songs(first: 30, search: "the") { edges { node { id } } } }'},
        ).json()
        ids = [e["node"]["id"] for e in songs["data"]["songs"]["edges"]]
        for i, song in enumerate(ids):
            kind = "LIKE" if i % 3 == 0 else "PLAY"
            http.post(
                "/graphql",
                json={
                    "query": f'mutation {{ recordInteraction(input: {{songId: "{song}", kind: {kind}}}) {{ id }} }}'
                },
                headers=headers,
            )
        results: dict[str, object] = {}
        for name, template in OPERATIONS.items():
            query = template % ids[0] if "%s" in template else template
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                body = http.post("/graphql", json={"query": query}, headers=headers).json()
                timings.append(time.perf_counter() - started)
                assert not body.get("errors"), body
            ms = np.array(timings) * 1000
            results[name] = {f"p{q}": round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99)}
        metrics = http.get("/metrics").text
        return {
            "requests_per_operation": requests,
            "latency_ms": results,
            "recommender_index": [
                line for line in metrics.splitlines() if line.startswith("madhur_recommender_index")
            ],
        }


if __name__ == "__main__":
    main()
