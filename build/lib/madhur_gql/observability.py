"""Metrics in Prometheus format and one structured log line per GraphQL operation.

Each app has its own registry (tests run several apps in one process). With several
uvicorn workers each worker counts for itself: scrape them separately or run one worker
per container, as is usual for Prometheus.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pymongo import monitoring
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

log = structlog.get_logger("madhur.requests")

OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_LABELS = 200  # client-chosen names: bound the label set
KNOWN_PATHS = ("/graphql", "/healthz", "/readyz", "/metrics")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "madhur_graphql_operations",
            "GraphQL operations by name, type and outcome (ok or the first error code).",
            ["operation", "type", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "madhur_graphql_operation_seconds",
            "Time to execute a GraphQL operation.",
            ["operation", "type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.http_responses = Counter(
            "madhur_http_responses",
            "HTTP responses by path and status, including requests refused before GraphQL.",
            ["path", "status"],
            registry=self.registry,
        )
        self.db_commands = Counter(
            "madhur_db_commands",
            "MongoDB commands (round trips) by command and outcome.",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.db_seconds = Histogram(
            "madhur_db_command_seconds",
            "MongoDB round-trip time.",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._names: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not OPERATION_NAME.match(name):
            return "invalid"
        if name not in self._names and len(self._names) >= MAX_OPERATION_LABELS:
            return "other"
        self._names.add(name)
        return name

    def watch_recommender(self, stats: Callable[[], dict[str, float | int]]) -> None:
        self.registry.register(RecommenderCollector(stats))

    def command_listener(self) -> monitoring.CommandListener:
        return CommandMetrics(self)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RecommenderCollector(Collector):
    """Index size and age, read from the live recommender at scrape time."""

    def __init__(self, stats: Callable[[], dict[str, float | int]]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = self.stats()
        family = GaugeMetricFamily(
            "madhur_recommender_index",
            "Recommender index figures (sizes, bytes, seconds).",
            labels=["figure"],
        )
        for name, value in sorted(stats.items()):
            family.add_metric([name], float(value))
        yield family
        yield GaugeMetricFamily(
            "madhur_recommender_ready",
            "1 when the recommender index is built.",
            value=1.0 if stats.get("ready") else 0.0,
        )


class CommandMetrics(monitoring.CommandListener):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.metrics.db_commands.labels(event.command_name, "ok").inc()
        self.metrics.db_seconds.labels(event.command_name).observe(event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.metrics.db_commands.labels(event.command_name, "error").inc()


class RequestObserver(SchemaExtension):
    """Outermost extension: sees the final error codes, times the whole operation."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        context = self.execution_context
        services = getattr(context.context, "services", None)
        metrics: Metrics | None = getattr(services, "metrics", None)
        try:
            operation_type = context.operation_type.value
        except RuntimeError:  # the document did not parse (or was refused before parsing)
            operation_type = "unknown"
        errors = context.result.errors if context.result else None
        outcome = "ok"
        if errors:
            outcome = str((errors[0].extensions or {}).get("code", "ERROR"))
        name = context.operation_name
        if metrics is not None:
            label = metrics.operation_label(name)
            metrics.operations.labels(label, operation_type, outcome).inc()
            metrics.latency.labels(label, operation_type).observe(seconds)
        log.info(
            "graphql operation",
            operation=name or "anonymous",
            type=operation_type,
            outcome=outcome,
            ms=round(seconds * 1000, 1),
        )


class HTTPMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.http_responses.labels(path, str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counting_send)


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
