"""Do recommender builds stall requests? Start-up and rebuilds against `{ __typename }`.

Starts `madhur-gql serve` (one worker, embedded database, demo catalog) with the rebuild
interval set to a few seconds, then sends `{ __typename }` and `/healthz` from one client
without pause: from the process start (how soon it answers, how soon recommendations come,
first as the POPULAR fallback, then personal) through at least three full rebuilds, and
reports the worst latency seen while a build was running.

    .venv/bin/python bench/rebuild_stall.py --data-dir bench/results/wrk-data --rebuilds 3
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
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from madhur_gql.db.embedded import free_port  # noqa: E402

CLI = Path(sys.executable).parent / "madhur-gql"
RESULTS = ROOT / "bench" / "results"
RECS = "{ recommendations(first: 5) { source } }"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--interval-seconds", type=float, default=4.0)
    parser.add_argument("--output", type=Path, default=RESULTS / "rebuild_stall.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = (args.data_dir or Path(tmp) / "data").resolve()
        port = free_port()
        env = {
            **os.environ,
            "MADHUR_DATA_DIR": str(data_dir),
            "MADHUR_PORT": str(port),
            "MADHUR_WORKERS": "1",
            "MADHUR_LOG_LEVEL": "WARNING",
            "MADHUR_RECOMMENDER_REBUILD_MINUTES": str(args.interval_seconds / 60),
        }
        env.pop("MONGODB_URI", None)
        started = time.perf_counter()
        server = subprocess.Popen(
            [str(CLI), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            report = watch(f"http://127.0.0.1:{port}", started, args)
        finally:
            server.terminate()
            server.wait(60)
    text = json.dumps(report, indent=2)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")


def builds_done(http: httpx.Client) -> tuple[int, bool]:
    """(builds finished, a build running) from /metrics: the build's age resets on each swap."""
    text = http.get("/metrics").text
    figures = {}
    for line in text.splitlines():
        if line.startswith("madhur_recommender_index{"):
            name = line.split('figure="', 1)[1].split('"', 1)[0]
            figures[name] = float(line.rsplit(" ", 1)[1])
    return int(figures.get("builds", 0)), bool(figures.get("building", 0))


def watch(url: str, started: float, args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"interval_seconds": args.interval_seconds}
    with httpx.Client(base_url=url, timeout=30) as http:
        while True:
            try:
                if http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        report["healthz_after_start_s"] = round(time.perf_counter() - started, 2)
        register = (
            'mutation { register(input: {email: "stall@example.com", password: '
            '"quiet-river-orchard-7413", displayName: "S"}) { accessToken } }'
        )
        login = (
            'mutation { login(email: "stall@example.com", password: "quiet-river-orchard-7413")'
            " { accessToken } }"
        )
        answer = http.post("/graphql", json={"query": register}).json()
        if not answer.get("data"):
            answer = http.post("/graphql", json={"query": login}).json()
        session = next(iter(answer["data"].values()))
        headers = {"Authorization": f"Bearer {session['accessToken']}"}
        t = time.perf_counter()
        first = http.post("/graphql", json={"query": RECS}, headers=headers).json()
        report["first_recommendations_ms"] = round((time.perf_counter() - t) * 1000, 1)
        report["first_recommendations_source"] = first["data"]["recommendations"][0]["source"]
        worst_building = 0.0
        worst_other = 0.0
        healthz_worst = 0.0
        samples = 0
        ready_at = None
        seen_builds, _ = builds_done(http)
        target = seen_builds + args.rebuilds + 1  # the start-up build, then the rebuilds
        deadline = time.perf_counter() + 60 + args.interval_seconds * (args.rebuilds + 2) * 3
        while time.perf_counter() < deadline:
            done, building = builds_done(http)
            if ready_at is None and done > 0:
                ready_at = time.perf_counter() - started
            if done >= target:
                break
            for _ in range(20):
                t = time.perf_counter()
                http.post("/graphql", json={"query": "{ __typename }"})
                ms = (time.perf_counter() - t) * 1000
                samples += 1
                if building:
                    worst_building = max(worst_building, ms)
                else:
                    worst_other = max(worst_other, ms)
            t = time.perf_counter()
            http.get("/healthz")
            healthz_worst = max(healthz_worst, (time.perf_counter() - t) * 1000)
        report.update(
            builds=builds_done(http)[0],
            recommender_ready_after_start_s=round(ready_at or -1, 2),
            typename_requests=samples,
            worst_typename_ms_during_builds=round(worst_building, 1),
            worst_typename_ms_otherwise=round(worst_other, 1),
            worst_healthz_ms=round(healthz_worst, 1),
        )
    return report


if __name__ == "__main__":
    main()
