"""OpenTelemetry traces, held by the Runtime rather than set globally.

With `OTEL_EXPORTER_OTLP_ENDPOINT` set, `Tracing.from_settings` builds a
TracerProvider (resource `service.name`, `oncallnova.role`) that batches spans to the
OTLP/HTTP exporter. Without it there is no provider and `tracer` is the API's no-op
tracer, so an instrumented call costs a few no-op calls. Tests inject their own
provider with `use`, so two instances in one process never share a tracer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from oncallnova.settings import Settings

TRACER_NAME = "oncallnova"


class Tracing:
    """The tracer every instrumented part reads (`tracing.tracer`) at call time."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self.provider: TracerProvider | None = None
        self.tracer: trace.Tracer = trace.NoOpTracer()
        self.enabled = False
        if provider is not None:
            self.use(provider)

    def use(self, provider: TracerProvider) -> None:
        """Record spans with `provider` from now on (tests pass an in-memory one)."""
        self.provider = provider
        self.tracer = provider.get_tracer(TRACER_NAME)
        self.enabled = True

    @classmethod
    def from_settings(cls, settings: Settings, role: str = "all") -> Tracing:
        endpoint = settings.otel_exporter_otlp_endpoint
        if not endpoint:
            return cls()
        # Imported here so that a server without an endpoint never loads the SDK.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create(
            {"service.name": settings.otel_service_name, "oncallnova.role": role}
        )
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=_traces_url(endpoint)))
        )
        return cls(provider)

    def instrument(self, engine: AsyncEngine) -> None:
        """A client span per SQL statement on `engine`, while tracing is on, inside the
        trace of the operation that runs it (a request, an ingestion batch, an engine
        pass that found work)."""
        sync_engine = engine.sync_engine

        def start(
            conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
        ) -> None:
            if not self.enabled or context is None:
                return
            if not trace.get_current_span().get_span_context().is_valid:
                # Outside any traced operation (an engine's idle poll, start-up) a
                # statement would make a trace of its own: one per poll, burying the rest.
                return
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
            context._oncallnova_span = self.tracer.start_span(
                f"db {verb}",
                kind=trace.SpanKind.CLIENT,
                attributes={"db.system": conn.dialect.name, "db.statement": statement[:500]},
            )

        def end(
            _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
        ) -> None:
            span = getattr(context, "_oncallnova_span", None)
            if span is not None:
                span.end()

        def failed(error: Any) -> None:
            span = getattr(error.execution_context, "_oncallnova_span", None)
            if span is not None:
                span.set_status(trace.Status(trace.StatusCode.ERROR, str(error.original_exception)))
                span.end()

        event.listen(sync_engine, "before_cursor_execute", start)
        event.listen(sync_engine, "after_cursor_execute", end)
        event.listen(sync_engine, "handle_error", failed)

    def shutdown(self) -> None:
        """Flush what is buffered and stop the exporter's worker."""
        if self.provider is not None:
            self.provider.shutdown()


def _traces_url(endpoint: str) -> str:
    """`OTEL_EXPORTER_OTLP_ENDPOINT` is the base URL; traces go to `/v1/traces` under it
    (as the OTLP specification says for the signal-agnostic variable)."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the span being recorded now, to store with work that
    another process carries on later (an outbox row), or None when nothing is traced."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        propagate.inject(carrier)
    return carrier.get("traceparent")


def context_of(traceparent: str | None) -> Context | None:
    """The context a stored `traceparent` names, for a span that continues its trace."""
    return propagate.extract({"traceparent": traceparent}) if traceparent else None
