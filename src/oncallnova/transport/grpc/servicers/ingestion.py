"""`oncallnova.v1.IngestService` over the ingestion use case of the incidents role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, get_args

from opentelemetry import context as otel_context
from opentelemetry import propagate

from oncallnova.alerts.api import IngestionService, IngestSource
from oncallnova.alerts.schemas import AlertResult
from oncallnova.core.errors import DomainError, InvalidInput
from oncallnova.transport.grpc.alert_messages import (
    MAX_BATCHES,
    alert_value,
    result_message,
    route_message,
)
from oncallnova.transport.grpc.errors import status_of
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import OutageHook, error_to_answer

SOURCES = frozenset(get_args(IngestSource))


class IngestServicer(pb_grpc.IngestServiceServicer):
    """The integration key authenticates each batch's sender (the internal token the
    calling role), so no acting user is needed."""

    def __init__(
        self, ingestion: IngestionService, max_batch: int, outage: OutageHook | None = None
    ) -> None:
        self._ingestion = ingestion
        self._max_batch = max_batch
        self._outage = outage

    async def Ingest(self, request: pb.IngestRequest, context: Any) -> pb.IngestResponse:
        reply = pb.IngestResponse()
        reply.batches.extend(await self._store(request.batches))
        return reply

    async def IngestStream(
        self, requests: AsyncIterator[pb.IngestStreamRequest], context: Any
    ) -> AsyncIterator[pb.IngestStreamResponse]:
        """Each message is stored as it arrives and answered once stored; the call ends
        when the caller has sent all it will and every message is answered."""
        # Replies in the order they are ready; a failure that is no DomainError and no
        # database outage (a bug) ends the stream; None once the caller is done and every
        # message is answered.
        replies: asyncio.Queue[pb.IngestStreamResponse | Exception | None] = asyncio.Queue()
        answering: set[asyncio.Task[None]] = set()

        async def answer(request: pb.IngestStreamRequest) -> None:
            reply = pb.IngestStreamResponse(sequence=request.sequence)
            try:
                reply.batches.extend(await self._store(request.batches))
            except Exception as exc:
                # An outage is the message's answer (Unavailable: the caller sends it
                # again shortly), not the end of the stream, which through a proxy may
                # reach the caller only when the caller ends its side.
                error = error_to_answer(exc, self._outage)
                if error is None:
                    replies.put_nowait(exc)
                    return
                reply.error.CopyFrom(status_of(error)[1])
            replies.put_nowait(reply)

        async def read() -> None:
            try:
                async for request in requests:
                    task = asyncio.create_task(answer(request))
                    answering.add(task)
                    task.add_done_callback(answering.discard)
                while answering:
                    await asyncio.wait(answering)
            except Exception as exc:
                replies.put_nowait(exc)
            finally:
                replies.put_nowait(None)

        reader = asyncio.create_task(read())
        try:
            while (reply := await replies.get()) is not None:
                if isinstance(reply, Exception):
                    raise reply
                yield reply
        finally:
            reader.cancel()
            for task in answering:
                task.cancel()

    async def _store(self, batches: Sequence[pb.AlertBatch]) -> list[pb.BatchResult]:
        """Each batch's results or error, once all are stored. A failure that is not a
        batch's fault (the database, say) is raised: none of them may be stored."""
        if len(batches) > MAX_BATCHES:
            raise InvalidInput(
                f"at most {MAX_BATCHES} batches per call or message", field="batches"
            )
        # Every batch is queued before any is awaited, so the writer stores them in the
        # same transaction.
        queued: list[Awaitable[list[AlertResult]] | DomainError] = []
        for batch in batches:
            try:
                queued.append(await self._queue(batch))
            except DomainError as exc:
                queued.append(exc)
        outcomes = await asyncio.gather(
            *(_refused(item) if isinstance(item, DomainError) else item for item in queued),
            return_exceptions=True,
        )
        results: list[pb.BatchResult] = []
        for outcome in outcomes:
            result = pb.BatchResult()
            if isinstance(outcome, DomainError):
                result.error.CopyFrom(status_of(outcome)[1])
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                result.results.extend(result_message(r) for r in outcome)
            results.append(result)
        return results

    async def _queue(self, batch: pb.AlertBatch) -> Awaitable[list[AlertResult]]:
        if batch.source not in SOURCES:
            raise InvalidInput(
                f"source must be one of {', '.join(sorted(SOURCES))}", field="source"
            )
        if not batch.batch_id or len(batch.batch_id) > 64:
            raise InvalidInput("batch_id: 1 to 64 characters", field="batch_id")
        if len(batch.alerts) > self._max_batch:
            raise InvalidInput(f"at most {self._max_batch} alerts per batch", field="alerts")
        self._ingestion.refuse_if_full()
        route = await self._ingestion.authenticate(batch.integration_key)
        alerts = [alert_value(alert, n) for n, alert in enumerate(batch.alerts)]
        source: IngestSource = batch.source  # type: ignore[assignment]
        if not batch.trace_context:
            return self._ingestion.ingest(route, alerts, source, batch.batch_id)
        # A call carries many requests' batches: each continues its own request's trace.
        attached = otel_context.attach(propagate.extract(batch.trace_context))
        try:
            return self._ingestion.ingest(route, alerts, source, batch.batch_id)
        finally:
            otel_context.detach(attached)

    async def ResolveIntegrationKey(
        self, request: pb.ResolveIntegrationKeyRequest, context: Any
    ) -> pb.ServiceRoute:
        return route_message(await self._ingestion.authenticate(request.integration_key))


async def _refused(error: DomainError) -> list[AlertResult]:
    raise error
