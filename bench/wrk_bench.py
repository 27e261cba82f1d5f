"""Throughput and latency under wrk, each operation against the GraphQL stack's own floor.

Starts `madhur-gql serve` (one worker, the embedded database, the demo catalog) on loopback,
gives one listener a history, then runs `wrk` with a Lua script that POSTs one GraphQL body:
`{ __typename }` first (the floor: HTTP, middleware, parsing, no resolver work), then the
operations of issue 12, then `recordInteraction` with a key per request. Every figure is printed
beside the floor's from the same run; `recordInteraction`'s acknowledged ids are checked against
the database afterwards. With one worker the API runs in the `serve` process itself, whose
CPU per request (user + system, from /proc) is printed beside each operation.

    .venv/bin/python bench/wrk_bench.py                     # -d10s per operation
    .venv/bin/python bench/wrk_bench.py --data-dir bench/results/wrk-data   # keep the import
    .venv/bin/python bench/wrk_bench.py --data-dir <copy> --only recommendations --only songs

`wrk` comes from Debian (`apt-get install wrk`; `make bench` installs it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from madhur_gql.db.embedded import free_port, running_server_uri  # noqa: E402

CLI = Path(sys.executable).parent / "madhur-gql"
LUA = Path(__file__).resolve().parent / "wrk"
RESULTS = ROOT / "bench" / "results"

FLOOR = "{ __typename }"
OPERATIONS = {
    "recommendations": "{ recommendations(first: 20) { score source reasons song { id title artist } } }",
    "songs": '{ songs(first: 20, search: "night") { totalCount edges { node { id title artist likeCount likedByMe } } } }',
}
PASSWORD = "quiet-river-orchard-7413"  # noqa: S105 - a bench account on a throwaway database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="wrk -d per operation")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse an embedded database")
    parser.add_argument("--output", type=Path, default=RESULTS / "wrk.json")
    parser.add_argument("--env", action="append", default=[], help="extra KEY=VALUE for serve")
    parser.add_argument(
        "--only",
        action="append",
        choices=[*OPERATIONS, "recordInteraction"],
        help="run only these operations (and always the floor); repeatable",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk (or make bench)")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = (args.data_dir or Path(tmp) / "data").resolve()
        port = free_port()
        env = {
            **os.environ,
            "MADHUR_DATA_DIR": str(data_dir),
            "MADHUR_PORT": str(port),
            "MADHUR_WORKERS": "1",
            "MADHUR_LOG_LEVEL": "WARNING",
            "MADHUR_JWT_SECRET": "bench-" + "k" * 40,
            # One client sends every request: its cost budget would refuse most of them.
            "MADHUR_CLIENT_COST_BUDGET": "0",
            **dict(item.split("=", 1) for item in args.env),
        }
        env.pop("MONGODB_URI", None)
        log = (RESULTS / "wrk-api.log").open("wb") if RESULTS.exists() else subprocess.DEVNULL
        server = subprocess.Popen([str(CLI), "serve"], env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            report = run(url, data_dir, args, Path(tmp), server.pid)
        finally:
            server.terminate()
            server.wait(60)
    print_table(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")


def run(
    url: str, data_dir: Path, args: argparse.Namespace, tmp: Path, api_pid: int
) -> dict[str, Any]:
    started = time.perf_counter()
    token, song_ids = prepare(url)
    prepared = time.perf_counter() - started
    results: dict[str, Any] = {}
    results["__typename"] = timed(api_pid, url, args, "post.lua", {"WRK_BODY": body(FLOOR)})
    wanted = set(args.only or [*OPERATIONS, "recordInteraction"])
    for name, query in OPERATIONS.items():
        if name in wanted:
            env = {"WRK_BODY": body(query), "WRK_TOKEN": token}
            results[name] = timed(api_pid, url, args, "post.lua", env)
    if "recordInteraction" in wanted:
        acks = tmp / "acks.txt"
        results["recordInteraction"] = timed(
            api_pid,
            url,
            args,
            "record.lua",
            {"WRK_TOKEN": token, "WRK_SONGS": ",".join(song_ids), "WRK_ACKS": str(acks)},
        )
        results["recordInteraction"].update(check_stored(data_dir, acks))
        results["recordInteraction"].update(online_metrics(url))
    floor = results["__typename"]["rps"]
    for figures in results.values():
        figures["ratio_to_floor"] = round(figures["rps"] / floor, 3) if floor else None
    return {
        "command": " ".join(sys.argv),
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.seconds}s",
        "ready_seconds": round(prepared, 1),
        "results": results,
    }


def body(query: str) -> str:
    return json.dumps({"query": query})


def prepare(url: str) -> tuple[str, list[str]]:
    """Wait for the server, register a listener with 30 likes and plays; its token and songs."""
    with httpx.Client(base_url=url, timeout=60) as http:
        deadline = time.monotonic() + 900
        while True:
            try:
                if http.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                sys.exit("server not ready")
            time.sleep(0.5)
        email = f"wrk-{time.time_ns()}@example.com"
        registered = graphql(
            http,
            "mutation($e: String!, $p: String!) { register(input: {email: $e, password: $p,"
            ' displayName: "W"}) { accessToken } }',
            {"e": email, "p": PASSWORD},
        )
        token = str(registered["register"]["accessToken"])
        page = graphql(http, '{ songs(first: 60, search: "the") { edges { node { id } } } }')
        ids = [edge["node"]["id"] for edge in page["songs"]["edges"]]
        for i, song in enumerate(ids[:30]):
            kind = "LIKE" if i % 3 == 0 else "PLAY"
            graphql(
                http,
                "mutation($s: ID!, $k: InteractionKind!) { recordInteraction(input:"
                " {songId: $s, kind: $k}) { id } }",
                {"s": song, "k": kind},
                token,
            )
        return token, ids


def graphql(
    http: httpx.Client, query: str, variables: dict[str, Any] | None = None, token: str = ""
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    payload = answer.json()
    if payload.get("errors"):
        sys.exit(f"setup failed: {payload['errors']}")
    data: dict[str, Any] = payload["data"]
    return data


def cpu_seconds(pid: int) -> float:
    """User and system CPU of one process so far (/proc/<pid>/stat, Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(
    pid: int, url: str, args: argparse.Namespace, script: str, env: dict[str, str]
) -> dict[str, Any]:
    """wrk's figures plus the API process's CPU per request (one worker: `serve` itself)."""
    before = cpu_seconds(pid)
    figures = wrk(url, args, script, env)
    spent = cpu_seconds(pid) - before
    figures["api_cpu_ms_per_request"] = (
        round(spent * 1000 / figures["requests"], 3) if figures["requests"] else None
    )
    return figures


def wrk(url: str, args: argparse.Namespace, script: str, env: dict[str, str]) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA / script),
        url + "/graphql",
    ]
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRKJSON "))
    figures: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    figures["rps"] = round(figures["requests"] / figures["seconds"], 1)
    return figures


def check_stored(data_dir: Path, acks: Path) -> dict[str, int]:
    """How many acknowledged interactions the database holds (each must be there)."""
    acked = [ObjectId(line) for line in acks.read_text().split()]
    uri = running_server_uri(data_dir)
    if uri is None:
        sys.exit("the embedded database is not running")
    stored = 0
    with MongoClient[dict[str, Any]](uri) as client:
        collection = client["madhur"]["interactions"]
        for start in range(0, len(acked), 500):
            batch = acked[start : start + 500]
            stored += collection.count_documents({"_id": {"$in": batch}})
    return {"acknowledged": len(acked), "acknowledged_stored": stored}


def online_metrics(url: str) -> dict[str, float]:
    """What /metrics says online metrics dropped (absent before the counter existed) and
    how many plays they counted for a list, once the last attributions had time to run."""
    time.sleep(2.0)
    text = httpx.get(url + "/metrics", timeout=30).text
    figures: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("madhur_online_metrics_dropped_total{"):
            what = line.split('what="', 1)[1].split('"', 1)[0]
            figures[f"dropped_{what}"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("madhur_recommendation_plays_total{"):
            figures["attributed_plays"] = figures.get("attributed_plays", 0.0) + float(
                line.rsplit(" ", 1)[1]
            )
    return figures


def print_table(report: dict[str, Any]) -> None:
    print(f"wrk {report['wrk']}")
    print(
        f"{'operation':<20} {'req/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'API CPU ms/req':>15}"
    )
    for name, r in report["results"].items():
        cpu = r.get("api_cpu_ms_per_request")
        print(
            f"{name:<20} {r['rps']:>9.1f} {r['ratio_to_floor']:>7.3f} {r['p50_ms']:>8.1f}"
            f" {r['p99_ms']:>8.1f} {r['errors'] + r['socket_errors']:>7}"
            f" {cpu if cpu is not None else '':>15}"
        )
    record = report["results"].get("recordInteraction")
    if record is None:
        return
    print(
        f"recordInteraction acknowledged {record['acknowledged']}, stored {record['acknowledged_stored']}"
    )
    print(
        "online metrics: "
        + ", ".join(f"{k} {v:.0f}" for k, v in record.items() if k.startswith(("dropped", "attr")))
    )


if __name__ == "__main__":
    main()
