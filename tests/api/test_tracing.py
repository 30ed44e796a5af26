"""OpenTelemetry traces (issue 7 item 3): an alert's trace runs from the HTTP request
through the ingestion batch into correlation and the outbox."""

from __future__ import annotations

import asyncio

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.tracing import Tracing
from oncallnova.settings import Settings
from tests.conftest import RuntimeFactory, api_client, new_service

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def _in_memory() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _one(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


async def test_alert_trace_reaches_batch_correlation_and_outbox(
    make_runtime: RuntimeFactory,
) -> None:
    rt = await make_runtime()
    async with api_client(rt) as client:
        svc = await new_service(client)
        hook = await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/x"})
        assert hook.status_code == 201, hook.text
        provider, exporter = _in_memory()
        rt.tracing.use(provider)  # only from here on: the setup above is not traced
        response = await client.post(
            "/api/v1/alerts",
            json={"title": "CPU high", "severity": "critical"},
            headers={"X-Routing-Key": svc["key"], "traceparent": TRACEPARENT},
        )
        assert response.status_code == 202, response.text
    spans = exporter.get_finished_spans()
    http = _one(spans, "POST /api/v1/alerts")
    batch = _one(spans, "ingest.batch")
    correlate = _one(spans, "incidents.correlate")
    enqueue = _one(spans, "notify.enqueue")
    for span in (http, batch, correlate, enqueue):
        assert f"{span.context.trace_id:032x}" == TRACE_ID, span.name
    assert http.parent is not None and f"{http.parent.span_id:016x}" == PARENT_ID
    assert http.parent.is_remote
    assert http.kind is trace.SpanKind.SERVER
    assert http.attributes is not None
    assert http.attributes["http.method"] == "POST"
    assert http.attributes["http.route"] == "/api/v1/alerts"
    assert http.attributes["http.status_code"] == 202
    assert batch.parent is not None and batch.parent.span_id == http.context.span_id
    assert batch.attributes is not None and batch.attributes["alerts.count"] == 1
    assert correlate.parent is not None and correlate.parent.span_id == batch.context.span_id
    assert enqueue.parent is not None and enqueue.parent.span_id == batch.context.span_id
    assert enqueue.attributes is not None and enqueue.attributes["notifications.count"] == 1
    # the database calls of the batch are spans of the same trace, under the batch
    inserts = [s for s in spans if s.name == "db INSERT"]
    assert inserts, [s.name for s in spans]
    for span in inserts:
        assert f"{span.context.trace_id:032x}" == TRACE_ID
        assert span.kind is trace.SpanKind.CLIENT
        assert span.attributes is not None and "INSERT INTO" in str(span.attributes["db.statement"])
    in_batch = {batch.context.span_id, correlate.context.span_id, enqueue.context.span_id}
    assert any(s.parent is not None and s.parent.span_id in in_batch for s in inserts)


async def test_batch_span_links_every_request_it_stores(make_runtime: RuntimeFactory) -> None:
    rt = await make_runtime()
    async with api_client(rt) as client:
        svc = await new_service(client)
    route = await rt.services.route_for_key(svc["key"])
    assert route is not None
    provider, exporter = _in_memory()
    rt.tracing.use(provider)
    tracer = provider.get_tracer("test")

    async def request(n: int) -> trace.SpanContext:
        with tracer.start_as_current_span(f"request {n}") as span:
            alert = NormalizedAlert(title=f"alert {n}", severity="low")
            await rt.ingestor.submit(route, [alert], "test")
            return span.get_span_context()

    # All three queue before the writer runs, so one batch stores them.
    first, second, third = await asyncio.gather(request(1), request(2), request(3))
    batch = _one(exporter.get_finished_spans(), "ingest.batch")
    assert batch.parent is not None and batch.parent.span_id == first.span_id
    assert batch.context.trace_id == first.trace_id
    assert [link.context for link in batch.links] == [second, third]
    assert batch.attributes is not None and batch.attributes["requests.count"] == 3


async def test_without_endpoint_nothing_is_recorded(make_runtime: RuntimeFactory) -> None:
    rt = await make_runtime()
    assert rt.tracing.enabled is False and rt.tracing.provider is None
    assert isinstance(rt.tracing.tracer, trace.NoOpTracer)
    async with api_client(rt) as client:
        svc = await new_service(client)
        response = await client.post(
            "/api/v1/alerts",
            json={"title": "CPU high", "severity": "critical"},
            headers={"X-Routing-Key": svc["key"], "traceparent": TRACEPARENT},
        )
        assert response.status_code == 202, response.text
        assert not trace.get_current_span().get_span_context().is_valid


def test_endpoint_builds_an_otlp_provider() -> None:
    settings = Settings(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318", OTEL_SERVICE_NAME="ocn"
    )
    tracing = Tracing.from_settings(settings, role="api")
    try:
        assert tracing.enabled and tracing.provider is not None
        attributes = tracing.provider.resource.attributes
        assert attributes["service.name"] == "ocn"
        assert attributes["oncallnova.role"] == "api"
    finally:
        tracing.shutdown()
    assert Tracing.from_settings(Settings(OTEL_EXPORTER_OTLP_ENDPOINT=" ")).enabled is False
