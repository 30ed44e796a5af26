"""`oncallnova.v1.IngestService` over the ingestion use case of the incidents role."""

from __future__ import annotations

from typing import Any, get_args

from oncallnova.alerts.api import IngestionService, IngestSource
from oncallnova.core.errors import InvalidInput
from oncallnova.transport.grpc.alert_messages import (
    alert_value,
    result_message,
    route_message,
)
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc

SOURCES = frozenset(get_args(IngestSource))


class IngestServicer(pb_grpc.IngestServiceServicer):
    """The integration key authenticates the sender (the internal token the calling
    role), so no acting user is needed."""

    def __init__(self, ingestion: IngestionService, max_batch: int) -> None:
        self._ingestion = ingestion
        self._max_batch = max_batch

    async def Ingest(self, request: pb.IngestRequest, context: Any) -> pb.IngestResponse:
        if request.source not in SOURCES:
            raise InvalidInput(
                f"source must be one of {', '.join(sorted(SOURCES))}", field="source"
            )
        if not request.batch_id or len(request.batch_id) > 64:
            raise InvalidInput("batch_id: 1 to 64 characters", field="batch_id")
        if len(request.alerts) > self._max_batch:
            raise InvalidInput(f"at most {self._max_batch} alerts per batch", field="alerts")
        self._ingestion.refuse_if_full()
        route = await self._ingestion.authenticate(request.integration_key)
        alerts = [alert_value(alert, n) for n, alert in enumerate(request.alerts)]
        results = await self._ingestion.ingest(
            route,
            alerts,
            request.source,  # type: ignore[arg-type]
            request.batch_id,
        )
        return pb.IngestResponse(results=[result_message(r) for r in results])

    async def ResolveIntegrationKey(
        self, request: pb.ResolveIntegrationKeyRequest, context: Any
    ) -> pb.ServiceRoute:
        return route_message(await self._ingestion.authenticate(request.integration_key))
