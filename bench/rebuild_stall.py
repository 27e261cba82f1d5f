"""Does a recommender build stall the API? `{ __typename }` latency during rebuilds vs idle.

Starts `madhur-gql serve` (one worker, the embedded database, the demo catalog: 28k songs) with
the rebuild interval in seconds, and measures:

- start-up: when the port answers, the first `/healthz`, `{ __typename }` and
  `recommendations` latencies (popular fallback while the first build runs), when `/readyz`
  says ready;
- steady state: a low-rate client (default 50 req/s, one request at a time, each timed) until
  the server logs three rebuilds after the first build; each request is classed "during a
  build" when it overlaps one (the server's own log gives each build's end and length) or
  "idle" otherwise, so both figures come from the same server in the same run;
- the server's RSS at the end and the build's own figures from its log (child peak RSS,
  pickled engine size, unpickle time).

    .venv/bin/python bench/rebuild_stall.py                       # this checkout
    .venv/bin/python bench/rebuild_stall.py --cli /work/main/.venv/bin/madhur-gql  # another

The first run imports the demo catalog into --data-dir (kept, so later runs start at once).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from madhur_gql.db.embedded import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FLOOR = {"query": "{ __typename }"}
RECS = {"query": "{ recommendations(first: 20) { score source song { id title } } }"}
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
REGISTER = (
    "mutation($e: String!, $p: String!) { register(input: {email: $e, password: $p,"
    ' displayName: "Bench"}) { accessToken } }'
)
EMAIL = "rebuild-bench@example.com"
PASSWORD = "quiet-river-orchard-7413"  # noqa: S105 - a bench account on a throwaway database
MAX_SECONDS = 600


@dataclass
class ServerLog:
    """Reads the server's JSON log as it comes; keeps each build's (end, seconds, fields)."""

    builds: list[tuple[float, float, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def follow(self, stream: IO[bytes], sink: IO[bytes]) -> None:
        for raw in stream:
            sink.write(raw)
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("event") == "recommender built":
                with self.lock:
                    self.builds.append((time.monotonic(), float(line["seconds"]), line))

    def count(self) -> int:
        with self.lock:
            return len(self.builds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cli", type=Path, default=Path(sys.executable).parent / "madhur-gql")
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "rebuild-data")
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--every-seconds", type=float, default=8.0, help="rebuild interval")
    parser.add_argument("--output", type=Path, default=RESULTS / "rebuild_stall.json")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir.resolve()
    env = {
        **os.environ,
        "MADHUR_DATA_DIR": str(data_dir),
        "MADHUR_WORKERS": "1",
        "MADHUR_LOG_LEVEL": "INFO",
        "MADHUR_LOG_JSON": "true",
        "MADHUR_JWT_SECRET": "bench-" + "k" * 40,
        "MADHUR_RECOMMENDER_REBUILD_MINUTES": str(args.every_seconds / 60),
    }
    env.pop("MONGODB_URI", None)
    if not (data_dir / ".imported").exists():
        print("first run: importing the demo catalog into", data_dir)
        first_start(args.cli, env, data_dir)
    report = {"command": " ".join(sys.argv), "cli": str(args.cli), **measure(args, env)}
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def first_start(cli: Path, env: dict[str, str], data_dir: Path) -> None:
    port = free_port()
    server = subprocess.Popen([str(cli), "serve", "--port", str(port)], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, 1800)
        with httpx.Client(base_url=url, timeout=60) as http:
            http.post(
                "/graphql", json={"query": REGISTER, "variables": {"e": EMAIL, "p": PASSWORD}}
            ).raise_for_status()
    finally:
        server.terminate()
        server.wait(60)
    (data_dir / ".imported").touch()


def wait_ready(url: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=60) as http:
        while time.monotonic() < deadline:
            try:
                if http.get("/readyz").status_code == 200:
                    return time.monotonic()
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    sys.exit("server never ready")


def measure(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = ServerLog()
    sink = (RESULTS / "rebuild-api.log").open("wb")
    spawned = time.monotonic()
    server = subprocess.Popen(
        [str(args.cli), "serve", "--port", str(port)],
        env=env,
        stdout=sink,
        stderr=subprocess.PIPE,
    )
    assert server.stderr is not None
    threading.Thread(target=log.follow, args=(server.stderr, sink), daemon=True).start()
    try:
        start = start_up(url, spawned, log)
        steady = steady_state(url, args, log)
        rss = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(60)
    builds = [line for _, _, line in log.builds]
    return {"start_up": start, "steady": steady, "server_rss_mb": rss, "builds": builds}


def start_up(url: str, spawned: float, log: ServerLog) -> dict[str, Any]:
    """Seconds from spawn to the port answering; the first requests' latencies after that."""
    with httpx.Client(base_url=url, timeout=60) as http:
        while True:
            sent = time.monotonic()
            try:
                healthz = http.get("/healthz")
                break
            except httpx.TransportError:
                if time.monotonic() - spawned > MAX_SECONDS:
                    sys.exit("server never listened")
                time.sleep(0.01)
        listening = sent - spawned
        figures: dict[str, Any] = {
            "listening_after_s": round(listening, 2),
            "first_healthz_ms": ms(time.monotonic() - sent),
            "healthz_status": healthz.status_code,
        }
        sent = time.monotonic()
        http.post("/graphql", json=FLOOR).raise_for_status()
        figures["first_typename_ms"] = ms(time.monotonic() - sent)
        sent = time.monotonic()
        login = http.post(
            "/graphql", json={"query": LOGIN, "variables": {"e": EMAIL, "p": PASSWORD}}
        )
        figures["first_login_ms"] = ms(time.monotonic() - sent)
        token = login.json()["data"]["login"]["accessToken"]
        sent = time.monotonic()
        answer = http.post(
            "/graphql", json=RECS, headers={"Authorization": f"Bearer {token}"}
        ).json()
        figures["first_recommendations_ms"] = ms(time.monotonic() - sent)
        picks = answer["data"]["recommendations"]
        figures["first_recommendations_source"] = picks[0]["source"] if picks else None
        figures["built_before_first_recommendations"] = log.count() > 0
        readyz = http.get("/readyz").json()
        figures["readyz_then"] = readyz.get("status")
    figures["ready_after_s"] = round(wait_ready(url, MAX_SECONDS) - spawned, 2)
    return figures


def steady_state(url: str, args: argparse.Namespace, log: ServerLog) -> dict[str, Any]:
    """Ticks at a fixed rate (a late tick goes at once), until enough rebuilds are logged."""
    wanted = 1 + args.rebuilds  # the first build, then the rebuilds
    samples: list[tuple[float, float]] = []  # (sent, seconds)
    period = 1 / args.rate
    with httpx.Client(base_url=url, timeout=60) as http:
        began = time.monotonic()
        tick = began
        while log.count() < wanted and time.monotonic() - began < MAX_SECONDS:
            tick += period
            pause = tick - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent = time.monotonic()
            http.post("/graphql", json=FLOOR).raise_for_status()
            samples.append((sent, time.monotonic() - sent))
    with log.lock:
        windows = [(end - seconds, end) for end, seconds, _ in log.builds[1:wanted]]
    during = [s for t, s in samples if any(a <= t + s and t <= b for a, b in windows)]
    idle = [s for t, s in samples if not any(a <= t + s and t <= b for a, b in windows)]
    return {
        "rate": args.rate,
        "every_seconds": args.every_seconds,
        "rebuilds": len(windows),
        "during_builds": summary(during),
        "idle": summary(idle),
    }


def summary(latencies: list[float]) -> dict[str, Any]:
    if not latencies:
        return {"requests": 0}
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "p50_ms": ms(ordered[len(ordered) // 2]),
        "p99_ms": ms(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]),
        "worst_ms": ms(ordered[-1]),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


if __name__ == "__main__":
    main()
