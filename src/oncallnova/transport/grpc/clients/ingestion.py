"""`IngestionService` over `oncallnova.v1.IngestService`: the `ingestion` role's side.

The role checks integration keys with the incidents role (answers kept as the all-in-one
keeps them: shared through Redis and dropped at once on a revoke when `REDIS_URL` is set,
else for INTEGRATION_KEY_CACHE_SECONDS) and hands each request's
alerts over in one `Ingest` call, answering its HTTP caller only once that call has
returned: a 2xx still means stored. A call whose reply is lost is made again with the
same batch id, which the writer remembers, so nothing is stored or counted twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from oncallnova.alerts.api import IngestSource
from oncallnova.alerts.ingestion import MISSING_KEY, UNKNOWN_KEY
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertResult
from oncallnova.core.errors import Overloaded, Unauthenticated, Unavailable
from oncallnova.core.shared_cache import Sharing
from oncallnova.services.api import ServiceRoute, kept_routes
from oncallnova.transport.grpc.alert_messages import alert_message, result_value, route_value
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc

# Tries of one batch while the incidents role cannot be reached, and the pause between.
ATTEMPTS = 4
T = TypeVar("T")
PAUSE_SECONDS = 0.25


class IngestionClient:
    """Implements `alerts.api.IngestionService`."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        key_cache_seconds: float,
        sharing: Sharing | None = None,
    ) -> None:
        self._stub = pb_grpc.IngestServiceStub(channel)
        self._routes = kept_routes(self._resolve, key_cache_seconds, sharing)
        # After the incidents role said its queue is full, refuse before reading bodies
        # until the delay it asked for has passed.
        self._full_until = 0.0

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
            reply = await self._call(lambda: self._stub.ResolveIntegrationKey(request))
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
        request = pb.IngestRequest(
            batch_id=batch_id or uuid.uuid4().hex,
            integration_key=route.integration_key,
            source=source,
            alerts=[alert_message(alert) for alert in alerts],
        )
        return self._ingest(request)

    async def _ingest(self, request: pb.IngestRequest) -> list[AlertResult]:
        try:
            reply = await self._call(lambda: self._stub.Ingest(request))
        except Unauthenticated:
            self._routes.forget(request.integration_key)  # revoked since it was kept
            raise
        except Overloaded as exc:
            self._full_until = time.monotonic() + exc.retry_after
            raise
        return [result_value(result) for result in reply.results]

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        """The call, made again while the incidents role is unreachable (a restart, a
        replica gone): every call made here is safe to repeat."""
        for attempt in range(ATTEMPTS):
            try:
                return await make()
            except Unavailable:
                if attempt == ATTEMPTS - 1:
                    raise
                await asyncio.sleep(PAUSE_SECONDS * 2**attempt)
        raise AssertionError("unreachable")
