"""OpenTelemetry tracing, off unless the standard OTEL_* environment variables ask for it.

On with `OTEL_TRACES_EXPORTER=otlp` (OTLP over HTTP/protobuf to `OTEL_EXPORTER_OTLP_ENDPOINT`,
by default http://localhost:4318) or `console`, or with only an OTLP endpoint set;
`OTEL_SDK_DISABLED=true` turns it off whatever else is set. The SDK reads the rest itself:
`OTEL_SERVICE_NAME` (madhur-gql when unset), `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER` / `_ARG`, `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_HEADERS`, ...

Spans: each HTTP request (Starlette), each GraphQL operation with its parse and validation
and every resolver that is not a plain attribute (Strawberry), each MongoDB command (pymongo).
Resolver arguments become span attributes only when they are plain values with harmless
names: no passwords, tokens, e-mail addresses or input objects reach a trace.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.instrumentation.starlette import StarletteInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from starlette.applications import Starlette
from strawberry.extensions import SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension

DEFAULT_SERVICE_NAME = "madhur-gql"
SECRET_WORDS = ("password", "token", "secret", "email", "key")
PLAIN = (str, int, float, bool)


def exporter_from_env(env: Mapping[str, str] = os.environ) -> SpanExporter | None:
    """The exporter the environment asks for; None when tracing stays off."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",") if n]
    if not names and (
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        names = ["otlp"]
    if "otlp" in names:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if "console" in names:
        return ConsoleSpanExporter()
    if names and names != ["none"]:
        raise ValueError(f"OTEL_TRACES_EXPORTER={','.join(names)}: use otlp, console or none")
    return None


def safe_arguments(arguments: dict[str, Any], info: Any) -> dict[str, Any]:
    """The resolver arguments a span may carry (Strawberry's `arg_filter`)."""
    return {
        name: value
        for name, value in arguments.items()
        if isinstance(value, PLAIN) and not any(w in name.lower() for w in SECRET_WORDS)
    }


@dataclass
class Tracing:
    """One tracer provider for the app, the database client and the GraphQL schema."""

    provider: TracerProvider

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Tracing | None:
        exporter = exporter_from_env(env)
        if exporter is None:
            return None
        tracing = cls.with_exporter(exporter, env=env)
        trace.set_tracer_provider(tracing.provider)  # for any other library that traces
        return tracing

    @classmethod
    def with_exporter(
        cls, exporter: SpanExporter, *, batch: bool = True, env: Mapping[str, str] = os.environ
    ) -> Tracing:
        named = "OTEL_SERVICE_NAME" in env or "service.name=" in env.get(
            "OTEL_RESOURCE_ATTRIBUTES", ""
        )
        resource = Resource.create({} if named else {SERVICE_NAME: DEFAULT_SERVICE_NAME})
        provider = TracerProvider(resource=resource)
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
        return cls(provider)

    def schema_extensions(self) -> list[Callable[[], SchemaExtension]]:
        return [
            partial(
                OpenTelemetryExtension, arg_filter=safe_arguments, tracer_provider=self.provider
            )
        ]

    def instrument(self, app: Starlette) -> None:
        """HTTP spans for `app`; MongoDB spans for every client created from now on."""
        StarletteInstrumentor.instrument_app(app, tracer_provider=self.provider)
        PymongoInstrumentor().instrument(tracer_provider=self.provider)

    def shutdown(self) -> None:
        PymongoInstrumentor().uninstrument()
        self.provider.shutdown()  # flushes the spans still queued
