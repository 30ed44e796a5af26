"""`IngestionService` over `oncallnova.v1.IngestService`: the `ingestion` role's side.

The role checks integration keys with the incidents role (answers kept as the all-in-one
keeps them: shared through Redis and dropped at once on a revoke when `REDIS_URL` is set,
else for INTEGRATION_KEY_CACHE_SECONDS) and answers its HTTP caller only once the alerts
are stored: a 2xx still means committed.

Batches travel on `IngestStream` (see `ingest_stream.py`): one long call that carries
many requests' batches per message, each batch with its own result or error, so the
cost of a call (a round trip, gRPC's own work on both ends) is not paid per request. A
message whose reply is lost is sent again with the same batch ids, which the writer
remembers, so nothing is stored or counted twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable

import grpc
from opentelemetry import propagate, trace

from oncallnova.alerts.api import IngestSource
from oncallnova.alerts.ingestion import MISSING_KEY, UNKNOWN_KEY
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertResult
from oncallnova.core.errors import DomainError, Overloaded, Unauthenticated
from oncallnova.core.shared_cache import Sharing
from oncallnova.core.tracing import Tracing
from oncallnova.services.api import ServiceRoute, kept_routes
from oncallnova.transport.grpc.alert_messages import alert_message, result_value, route_value
from oncallnova.transport.grpc.clients.calls import resend
from oncallnova.transport.grpc.clients.ingest_stream import Item, Streams
from oncallnova.transport.grpc.errors import error_of
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc


class IngestionClient:
    """Implements `alerts.api.IngestionService`."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        key_cache_seconds: float,
        sharing: Sharing | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._stub = pb_grpc.IngestServiceStub(channel)
        self._tracing = tracing or Tracing()
        self._routes = kept_routes(self._resolve, key_cache_seconds, sharing)
        # After the incidents role said its queue is full, refuse before reading bodies
        # until the delay it asked for has passed.
        self._full_until = 0.0
        self._streams = Streams(self._stub, self._settle)

    def refuse_if_full(self) -> None:
        if time.monotonic() < self._full_until:
            raise Overloaded("ingestion queue is full; retry shortly", retry_after=1)

    async def authenticate(self, key: str | None) -> ServiceRoute:
        if not key:
            raise Unauthenticated(MISSING_KEY)
        route = await self._routes.get(key)
        if route is None:
            raise Unauthenticated(UNKNOWN_KEY)
        return route

    async def _resolve(self, key: str) -> ServiceRoute | None:
        request = pb.ResolveIntegrationKeyRequest(integration_key=key)
        try:
            reply = await resend(lambda: self._stub.ResolveIntegrationKey(request))
        except Unauthenticated:
            return None
        return route_value(reply, key)

    def ingest(
        self,
        route: ServiceRoute,
        alerts: list[NormalizedAlert],
        source: IngestSource,
        batch_id: str | None = None,
    ) -> Awaitable[list[AlertResult]]:
        batch = pb.AlertBatch(
            batch_id=batch_id or uuid.uuid4().hex,
            integration_key=route.integration_key,
            source=source,
            alerts=[alert_message(alert) for alert in alerts],
        )
        done: asyncio.Future[list[AlertResult]] = asyncio.get_running_loop().create_future()
        if self._tracing.enabled:
            self._trace(batch, done)
        self._streams.send(Item(batch, done))
        return done

    def _trace(self, batch: pb.AlertBatch, done: asyncio.Future[list[AlertResult]]) -> None:
        """`ingest.send`, from the hand-over to the reply, in the request's trace. The
        stream that carries the batch is no request's own call, so the batch carries
        this span's context to the incidents role, whose storing continues the trace."""
        span = self._tracing.tracer.start_span(
            "ingest.send",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "rpc.system": "grpc",
                "rpc.service": "oncallnova.v1.IngestService",
                "rpc.method": "IngestStream",
                "oncallnova.batch_id": batch.batch_id,
                "alerts.count": len(batch.alerts),
            },
        )
        propagate.inject(batch.trace_context, context=trace.set_span_in_context(span))

        def ended(done: asyncio.Future[list[AlertResult]]) -> None:
            error = None if done.cancelled() else done.exception()
            if error is not None:
                span.set_status(trace.StatusCode.ERROR, str(error))
            span.end()

        done.add_done_callback(ended)

    def _settle(self, item: Item, outcome: pb.BatchResult | BaseException) -> None:
        if item.done.done():  # a caller that went away cancelled its own
            return
        if isinstance(outcome, asyncio.CancelledError):
            item.done.cancel()
        elif isinstance(outcome, BaseException):
            item.done.set_exception(outcome)
        elif outcome.HasField("error"):
            item.done.set_exception(self._refused(item.batch, error_of(outcome.error)))
        else:
            item.done.set_result([result_value(r) for r in outcome.results])

    def _refused(self, batch: pb.AlertBatch, error: DomainError) -> DomainError:
        if isinstance(error, Unauthenticated):
            self._routes.forget(batch.integration_key)  # revoked since it was kept
        elif isinstance(error, Overloaded):
            self._full_until = time.monotonic() + error.retry_after
        return error

    async def aclose(self) -> None:
        await self._streams.aclose()
