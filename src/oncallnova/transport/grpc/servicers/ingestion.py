"""`oncallnova.v1.IngestService` over the ingestion use case of the incidents role."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, get_args

from oncallnova.alerts.api import IngestionService, IngestSource
from oncallnova.alerts.schemas import AlertResult
from oncallnova.core.errors import DomainError, InvalidInput
from oncallnova.transport.grpc.alert_messages import (
    alert_value,
    result_message,
    route_message,
)
from oncallnova.transport.grpc.errors import status_of
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc

SOURCES = frozenset(get_args(IngestSource))
MAX_BATCHES = 1000


class IngestServicer(pb_grpc.IngestServiceServicer):
    """The integration key authenticates each batch's sender (the internal token the
    calling role), so no acting user is needed."""

    def __init__(self, ingestion: IngestionService, max_batch: int) -> None:
        self._ingestion = ingestion
        self._max_batch = max_batch

    async def Ingest(self, request: pb.IngestRequest, context: Any) -> pb.IngestResponse:
        if len(request.batches) > MAX_BATCHES:
            raise InvalidInput(f"at most {MAX_BATCHES} batches per call", field="batches")
        # Every batch is queued before any is awaited, so the writer stores them in the
        # same transaction.
        queued: list[Awaitable[list[AlertResult]] | DomainError] = []
        for batch in request.batches:
            try:
                queued.append(await self._queue(batch))
            except DomainError as exc:
                queued.append(exc)
        outcomes = await asyncio.gather(
            *(_refused(item) if isinstance(item, DomainError) else item for item in queued),
            return_exceptions=True,
        )
        reply = pb.IngestResponse()
        for outcome in outcomes:
            result = reply.batches.add()
            if isinstance(outcome, DomainError):
                result.error.CopyFrom(status_of(outcome)[1])
            elif isinstance(outcome, BaseException):
                # Not the batch's fault (the database, say): the whole call fails, and the
                # caller may send it again; batch ids keep the stored ones from doubling.
                raise outcome
            else:
                result.results.extend(result_message(r) for r in outcome)
        return reply

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
        return self._ingestion.ingest(route, alerts, source, batch.batch_id)

    async def ResolveIntegrationKey(
        self, request: pb.ResolveIntegrationKeyRequest, context: Any
    ) -> pb.ServiceRoute:
        return route_message(await self._ingestion.authenticate(request.integration_key))


async def _refused(error: DomainError) -> list[AlertResult]:
    raise error
