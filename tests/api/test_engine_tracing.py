"""Engine traces: an idle engine records nothing; a pass that did work is one trace."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.api.oncall_helpers import alert, level, policy, user
from tests.conftest import RuntimeFactory, api_client, new_service
from tests.support.receiver import Receiver


def _roots(spans: tuple[ReadableSpan, ...]) -> list[str]:
    return sorted(s.name for s in spans if s.parent is None)


async def test_idle_polls_record_no_span_and_work_is_one_trace_per_pass(
    make_runtime: RuntimeFactory,
) -> None:
    rt = await make_runtime()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with Receiver() as receiver:
        async with api_client(rt) as client:
            ann = await user(client, "Ann")
            svc = await new_service(
                client, escalation_policy_id=await policy(client, "p", [level(60, ("user", ann))])
            )
            created = await client.post("/api/v1/webhooks", json={"url": receiver.url})
            assert created.status_code == 201, created.text
            rt.tracing.use(provider)
            for _ in range(5):
                assert set((await rt.engine.run_once()).values()) == {0}
            assert [s.name for s in exporter.get_finished_spans()] == []

            await alert(client, svc["key"])
            exporter.clear()  # the request's own trace is not the engine's
            done = await rt.engine.run_once()
            assert done["escalation"] == 1 and done["dispatch"] >= 1
            assert len(receiver.requests) == 1
            spans = exporter.get_finished_spans()
            assert _roots(spans) == ["engine.dispatch", "engine.escalation"]
            by_name = {s.name: s for s in spans if s.parent is None}
            dispatch = by_name["engine.dispatch"]
            sends = [s for s in spans if s.name == "notify.send"]
            assert sends and all(
                s.parent is not None and s.parent.span_id == dispatch.context.span_id for s in sends
            )
            statements = [s for s in spans if s.name.startswith("db ")]
            assert statements  # the work's statements, each inside one of the two traces
            traces = {s.context.trace_id for s in by_name.values()}
            assert {s.context.trace_id for s in statements} <= traces

            exporter.clear()
            for _ in range(3):
                await rt.engine.run_once()
            assert [s.name for s in exporter.get_finished_spans()] == []


async def test_a_stream_waiting_for_its_retry_makes_polls_idle(
    make_runtime: RuntimeFactory,
) -> None:
    rt = await make_runtime()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with Receiver() as receiver:
        receiver.script = [503]  # the first event is retried in 30 s; the next waits for it
        async with api_client(rt) as client:
            svc = await new_service(client)
            created = await client.post("/api/v1/webhooks", json={"url": receiver.url})
            assert created.status_code == 201, created.text
            incident = await alert(client, svc["key"])
            await client.post(f"/api/v1/incidents/{incident}/acknowledge")
            await rt.engine.run_once()
            assert len(receiver.requests) == 1
            rt.tracing.use(provider)
            for _ in range(3):
                assert (await rt.engine.run_once())["dispatch"] == 0
            assert [s.name for s in exporter.get_finished_spans()] == []
