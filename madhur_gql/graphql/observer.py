"""One structured log line and the operation metrics for every GraphQL operation."""

from __future__ import annotations

import time
from collections.abc import Iterator

import structlog
from strawberry.extensions import SchemaExtension

from madhur_gql.metrics import Metrics

log = structlog.get_logger("madhur.requests")
MAX_LOGGED_NAME = 100  # a client chooses the name: a 99 kB one made a 99 kB log line


def short_name(name: str | None) -> str:
    """The operation name as logged: cut to MAX_LOGGED_NAME characters."""
    if not name:
        return "anonymous"
    return name if len(name) <= MAX_LOGGED_NAME else name[: MAX_LOGGED_NAME - 1] + "…"


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
        meter = getattr(context.context, "cost", None)
        cost = {"cost": meter.spent} if meter is not None else {}
        log.info(
            "graphql operation",
            operation=short_name(name),
            **cost,
            type=operation_type,
            outcome=outcome,
            ms=round(seconds * 1000, 1),
        )
