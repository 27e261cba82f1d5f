"""How soon a live list follows a listener's play, on the same process and through another one.

Starts two `madhur-gql serve` processes on one fresh embedded database (the demo catalog), opens
`recommendationsUpdated` over graphql-transport-ws on the first, and records plays a little more
than a second apart (so the once-a-second limit never delays a push), through the first process
and then through the second. Each figure is the time from sending the play to receiving the
fresh list; the floor is the play's own HTTP round trip (its acknowledgement).

    .venv/bin/python bench/live_lists.py --plays 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "madhur-gql"
sys.path.insert(0, str(ROOT))

from madhur_gql.db.embedded import free_port  # noqa: E402

LIVE = "subscription { recommendationsUpdated(first: 20) { listId song { id } } }"
PLAY = "mutation($s: ID!) { recordInteraction(input: {songId: $s, kind: PLAY}) { id } }"
SPACING = 1.1  # seconds between plays: above the once-a-second limit


def serve(data_dir: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MADHUR_DATA_DIR": data_dir,
        "MADHUR_PORT": str(port),
        "MADHUR_LOG_LEVEL": "WARNING",
        "MADHUR_JWT_SECRET": "bench-" + "k" * 40,
    }
    env.pop("MONGODB_URI", None)
    return subprocess.Popen(
        [str(CLI), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def ready(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        deadline = time.time() + 600
        while True:
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.time() < deadline, f"{url} never ready"
            await asyncio.sleep(0.5)


async def measure(home: str, other: str, plays: int) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=home, timeout=30) as http:
        body = (
            await http.post(
                "/graphql",
                json={
                    "query": 'mutation { register(input: {email: "live@example.com", password: '
                    '"quiet-river-orchard-7413", displayName: "L"}) { accessToken } }'
                },
            )
        ).json()
        token = body["data"]["register"]["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    url = home.replace("http://", "ws://") + "/graphql"
    results: dict[str, object] = {}
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": LIVE}}
        await ws.send(json.dumps(subscribe))
        listed = json.loads(await ws.recv())["payload"]["data"]["recommendationsUpdated"]
        for name, base in (("same process", home), ("other process", other)):
            pushes, acks = [], []
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                for _ in range(plays):
                    await asyncio.sleep(SPACING)
                    song = listed[0]["song"]["id"]
                    started = time.perf_counter()
                    answer = await http.post(
                        "/graphql", json={"query": PLAY, "variables": {"s": song}}, headers=headers
                    )
                    acks.append(time.perf_counter() - started)
                    assert not answer.json().get("errors"), answer.text
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    pushes.append(time.perf_counter() - started)
                    listed = message["payload"]["data"]["recommendationsUpdated"]
                    assert song not in {item["song"]["id"] for item in listed}
            push_ms, ack_ms = np.array(pushes) * 1000, np.array(acks) * 1000
            results[name] = {
                "push_ms": {
                    **{f"p{q}": round(float(np.percentile(push_ms, q)), 1) for q in (50, 95)},
                    "max": round(float(push_ms.max()), 1),
                },
                "play_ack_ms_p50": round(float(np.percentile(ack_ms, 50)), 1),
                "push_over_ack_p50": round(
                    float(np.percentile(push_ms, 50) / np.percentile(ack_ms, 50)), 2
                ),
            }
    return {"plays_per_mode": plays, "spacing_s": SPACING, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plays", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home_port, other_port = free_port(), free_port()
        first = serve(tmp, home_port)
        second: subprocess.Popen[bytes] | None = None
        try:
            home, other = f"http://127.0.0.1:{home_port}", f"http://127.0.0.1:{other_port}"
            asyncio.run(ready(home))
            second = serve(tmp, other_port)  # joins the database the first one started
            asyncio.run(ready(other))
            report = asyncio.run(measure(home, other, args.plays))
        finally:
            for process in (second, first):
                if process is not None:
                    process.terminate()
                    process.wait(60)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
