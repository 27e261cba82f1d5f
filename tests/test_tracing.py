"""OpenTelemetry: one trace per request, with the GraphQL operation, its resolvers and the
MongoDB commands they send; off unless OTEL_* asks; no secret in any span."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from madhur_gql.config import Settings
from madhur_gql.tracing import Tracing, exporter_from_env
from tests.conftest import LiveServer

PASSWORD = "a very private passphrase"
REGISTER = """
mutation Register($input: RegisterInput!) { register(input: $input) { user { id } } }
"""


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
async def traced_server(
    settings: Settings, exporter: InMemorySpanExporter
) -> AsyncIterator[LiveServer]:
    server = LiveServer(settings, tracing=Tracing.with_exporter(exporter, batch=False))
    await server.start()
    await server.wait_ready()
    yield server
    await server.stop()


def one_trace(spans: tuple[ReadableSpan, ...], http_span: ReadableSpan) -> list[ReadableSpan]:
    assert http_span.context is not None
    return [s for s in spans if s.context and s.context.trace_id == http_span.context.trace_id]


async def test_a_request_is_one_trace_down_to_the_database(
    traced_server: LiveServer, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    variables = {"input": {"email": "traced@example.com", "password": PASSWORD, "displayName": "T"}}
    async with httpx.AsyncClient(base_url=traced_server.url) as http:
        response = await http.post(
            "/graphql",
            json={"query": REGISTER, "variables": variables, "operationName": "Register"},
        )
    assert response.status_code == 200 and "errors" not in response.json()
    spans = exporter.get_finished_spans()
    [http_span] = [s for s in spans if s.name == "POST /graphql"]
    trace = one_trace(spans, http_span)
    names = {s.name for s in trace}
    assert "GraphQL Query: Register" in names  # the operation, named as the client named it
    [resolver] = [s for s in trace if s.name == "GraphQL Resolving: register"]
    by_id = {s.context.span_id: s for s in trace if s.context}

    def ancestors(span: ReadableSpan) -> list[str]:
        chain = []
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            chain.append(span.name)
        return chain

    mongo = [s for s in trace if (s.attributes or {}).get("db.system") == "mongodb"]
    assert mongo, names
    # The user is written to MongoDB inside the resolver, inside the request.
    assert any(resolver.name in ancestors(s) for s in mongo), [ancestors(s) for s in mongo]
    assert "POST /graphql" in ancestors(resolver)
    everything = repr([(s.name, dict(s.attributes or {})) for s in spans])
    assert PASSWORD not in everything and "traced@example.com" not in everything


async def test_a_plain_argument_is_recorded_and_an_input_object_is_not(
    traced_server: LiveServer, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    async with httpx.AsyncClient(base_url=traced_server.url) as http:
        await http.post(
            "/graphql",
            json={
                "query": '{ songs(first: 2, search: "queen", filter: {genre: "rock"}) { totalCount } }'
            },
        )
    [songs] = [s for s in exporter.get_finished_spans() if s.name == "GraphQL Resolving: songs"]
    attributes = dict(songs.attributes or {})
    assert attributes.get("graphql.param.search") == "queen"
    assert attributes.get("graphql.param.first") == 2
    assert "graphql.param.filter" not in attributes


def test_tracing_is_off_unless_the_environment_asks() -> None:
    assert exporter_from_env({}) is None
    assert exporter_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert isinstance(exporter_from_env({"OTEL_TRACES_EXPORTER": "console"}), ConsoleSpanExporter)
    assert isinstance(exporter_from_env({"OTEL_TRACES_EXPORTER": "otlp"}), OTLPSpanExporter)
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    assert isinstance(exporter_from_env(endpoint), OTLPSpanExporter)
    assert exporter_from_env({**endpoint, "OTEL_SDK_DISABLED": "true"}) is None
    with pytest.raises(ValueError, match="otlp, console or none"):
        exporter_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})


def test_the_service_is_named_unless_the_environment_names_it() -> None:
    named = Tracing.with_exporter(InMemorySpanExporter(), env={"OTEL_SERVICE_NAME": "edge"})
    default = Tracing.with_exporter(InMemorySpanExporter(), env={})
    assert default.provider.resource.attributes["service.name"] == "madhur-gql"
    assert named.provider.resource.attributes["service.name"] != "madhur-gql"
