"""The Prometheus registry of one app: operation, HTTP, database and recommender figures.

Each app has its own registry (tests run several apps in one process). With several
uvicorn workers each worker counts for itself: scrape them separately or run one worker
per container, as is usual for Prometheus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from pymongo import monitoring

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

    def watch_served_lists(self, rows: Callable[[], Iterable[ListRow]]) -> None:
        self.registry.register(ServedListCollector(rows))

    def watch_online_metric_drops(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self.registry.register(DropCollector(counts))

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


class DropCollector(Collector):
    """What online metrics gave up on in this worker rather than make a listener wait."""

    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "madhur_online_metrics_dropped",
            "Served lists never stored and interactions never attributed (queues full), "
            "in this worker.",
            labels=["what"],
        )
        for what, count in sorted(self.counts().items()):
            family.add_metric([what], float(count))
        yield family


ListRow = tuple[str, str, Mapping[str, int]]  # (list kind, source, counts by name)
OUTCOMES = (("plays", "play"), ("likes", "like"), ("skips", "skip"), ("dislikes", "dislike"))


class ServedListCollector(Collector):
    """Online metrics per list kind and source, for the whole deployment.

    Unlike the other metrics these are not counted per worker: they are read from the
    database (all workers' lists and interactions), so any worker's scrape gives the same
    totals and rates. Rates are all-time counts over impressions; for a window, take
    `rate()` of the counters in Prometheus.
    """

    def __init__(self, rows: Callable[[], Iterable[ListRow]]) -> None:
        self.rows = rows

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        labels = ["list", "source"]
        impressions = CounterMetricFamily(
            "madhur_recommendation_impressions",
            "Songs served in lists, by list kind and recommendation source.",
            labels=labels,
        )
        counters = {
            name: CounterMetricFamily(
                f"madhur_recommendation_{name}",
                f"{one.capitalize()}s of listed songs within 30 minutes, counted for their list.",
                labels=labels,
            )
            for name, one in OUTCOMES
        }
        rates = {
            name: GaugeMetricFamily(
                f"madhur_recommendation_{one}_rate",
                f"{name.capitalize()} over impressions (all time, 4 decimals).",
                labels=labels,
            )
            for name, one in OUTCOMES
        }
        for kind, source, counts in self.rows():
            shown = counts.get("impressions", 0)
            impressions.add_metric([kind, source], shown)
            for name, _ in OUTCOMES:
                counters[name].add_metric([kind, source], counts.get(name, 0))
                rates[name].add_metric(
                    [kind, source], round(counts.get(name, 0) / shown, 4) if shown else 0.0
                )
        yield impressions
        yield from counters.values()
        yield from rates.values()


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
