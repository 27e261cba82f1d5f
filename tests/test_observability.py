"""What operators see: Prometheus metrics, JSON request logs with ids, health vs readiness."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import GraphQLClient
from tests.test_restart import ServeProcess


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_operations_outcomes_and_round_trips(client: GraphQLClient) -> None:
    await client.data("query BrowseSongs { songs(first: 3) { totalCount } }")
    await client.execute('query MissingSong { song(id: "0123456789abcdef01234567") { id } }')
    await client.http.post(
        "/graphql", content=b"x" * 300_000, headers={"content-type": "application/json"}
    )
    response = await client.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    values = samples(response.text)

    def value(name: str, **labels: str) -> float:
        return values.get((name, frozenset(labels.items())), 0.0)

    assert (
        value(
            "madhur_graphql_operations_total", operation="BrowseSongs", type="query", outcome="ok"
        )
        >= 1
    )
    assert (
        value(
            "madhur_graphql_operations_total",
            operation="MissingSong",
            type="query",
            outcome="NOT_FOUND",
        )
        >= 1
    )
    assert (
        value("madhur_graphql_operation_seconds_count", operation="BrowseSongs", type="query") >= 1
    )
    assert value("madhur_http_responses_total", path="/graphql", status="413") >= 1
    assert value("madhur_db_commands_total", command="find", outcome="ok") >= 1
    assert value("madhur_recommender_ready") == 1.0
    assert value("madhur_recommender_index", figure="items") > 700


async def test_operation_names_cannot_flood_the_label_set(client: GraphQLClient) -> None:
    for i in range(250):
        await client.execute(f"query Flood{i} {{ __typename }}")
    text = (await client.http.get("/metrics")).text
    names = {
        labels.get("operation")
        for (name, labels) in ((n, dict(pairs)) for n, pairs in samples(text))
        if name == "madhur_graphql_operations_total"
    }
    assert len(names) <= 203 and "other" in names


def test_json_logs_carry_request_id_and_operation(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path / "data")
    try:
        server.wait_healthy()
        import httpx

        response = httpx.post(
            f"{server.url}/graphql",
            json={"query": "query TopSongs { songs(first: 1) { totalCount } }"},
        )
        request_id = response.headers["x-request-id"]
        assert httpx.get(f"{server.url}/readyz").status_code in (200, 503)
    finally:
        server.stop()
    lines = [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]
    entry = next(
        line
        for line in lines
        if line.get("event") == "graphql operation" and line.get("operation") == "TopSongs"
    )
    assert entry["request_id"] == request_id
    assert entry["outcome"] == "ok" and entry["type"] == "query" and entry["ms"] >= 0
