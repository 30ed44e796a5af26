"""One trace runs from the HTTP request a front end (the split's ingestion role) receives,
through the gRPC hop (W3C context in the call's metadata), to the incidents role's SQL,
and on to the webhook delivery the engine makes later."""

from __future__ import annotations

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from oncallnova.core.tracing import Tracing
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.roles import ROLES, RoleName
from oncallnova.transport.http.app import create_app
from tests.conftest import api_client, new_service
from tests.support.receiver import Receiver
from tests.support.remote import served_remotely

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _in_memory() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _named(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert found, (name, sorted({s.name for s in spans}))
    return found[-1]


async def test_one_trace_from_the_front_end_through_grpc_to_sql_and_delivery(
    rt: Runtime,
) -> None:
    front_provider, front_spans = _in_memory()
    back_provider, back_spans = _in_memory()
    with Receiver() as receiver:
        async with api_client(rt) as admin:
            svc = await new_service(admin)
            hook = await admin.post("/api/v1/webhooks", json={"url": receiver.url})
            assert hook.status_code == 201, hook.text
        rt.tracing.use(back_provider)
        async with served_remotely(rt, front_tracing=Tracing(front_provider)) as remote:
            app = create_app(
                remote,
                manage_runtime=False,
                web=False,
                prefixes=ROLES[RoleName.ingestion].http_prefixes,
                bootstrap=False,
            )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ingestion") as http:
                sent = await http.post(
                    "/api/v1/alerts",
                    json={"title": "CPU high", "severity": "critical"},
                    headers={"X-Routing-Key": svc["key"], "traceparent": TRACEPARENT},
                )
            assert sent.status_code == 202, sent.text
        await rt.dispatcher.run_once(rt.clock.now())  # the engine delivers the webhook
        assert len(receiver.requests) == 1

    front, back = front_spans.get_finished_spans(), back_spans.get_finished_spans()
    request = _named(front, "POST /api/v1/alerts")
    # The batch travels on a stream that many requests share, so it carries its
    # request's trace itself: the hand-over is a span of its own on the front end, and
    # the transaction that stored the batch its child on the incidents role.
    call = _named(front, "ingest.send")
    batch, send = _named(back, "ingest.batch"), _named(back, "notify.send")
    stored = [
        s for s in back if "INSERT INTO alerts" in str((s.attributes or {}).get("db.statement"))
    ]
    assert stored
    for span in (request, call, batch, send, *stored):
        assert f"{span.context.trace_id:032x}" == TRACE_ID, span.name
    assert call.kind == trace.SpanKind.CLIENT
    assert call.parent is not None and call.parent.span_id == request.context.span_id
    assert batch.parent is not None and batch.parent.span_id == call.context.span_id
    assert batch.parent.is_remote
    # The stream itself is traced by gRPC's instrumentation, outside any request's trace.
    streams = [s for s in back if s.name == "/oncallnova.v1.IngestService/IngestStream"]
    assert streams and all(f"{s.context.trace_id:032x}" != TRACE_ID for s in streams)
