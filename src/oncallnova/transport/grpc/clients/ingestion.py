"""`IngestionService` over `oncallnova.v1.IngestService`: the `ingestion` role's side.

The role checks integration keys with the incidents role (answers kept as the all-in-one
keeps them: shared through Redis and dropped at once on a revoke when `REDIS_URL` is set,
else for INTEGRATION_KEY_CACHE_SECONDS) and answers its HTTP caller only once the alerts
are stored: a 2xx still means committed.

Requests arriving while calls are in flight wait for the next call, which carries all of
them (each its own batch, with its own result or error): under load a call carries tens
of requests, so the cost of a call (a round trip, gRPC's own work on both ends) is paid
once for all of them, as the writer pays one commit for many requests. A call whose
reply is lost is made again with the same batch ids, which the writer remembers, so
nothing is stored or counted twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable

import grpc

from oncallnova.alerts.api import IngestSource
from oncallnova.alerts.ingestion import MISSING_KEY, UNKNOWN_KEY
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertResult
from oncallnova.core.errors import DomainError, Overloaded, Unauthenticated
from oncallnova.core.shared_cache import Sharing
from oncallnova.services.api import ServiceRoute, kept_routes
from oncallnova.transport.grpc.alert_messages import alert_message, result_value, route_value
from oncallnova.transport.grpc.clients.calls import resend
from oncallnova.transport.grpc.errors import error_of
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc

# Calls in flight at once (two keep the writer fed while the other reply travels);
# requests beyond wait for the next call. A call carries at
# most this many alerts (the rest wait for the one after).
IN_FLIGHT = 2
CALL_ALERTS = 5000

Waiting = tuple[pb.AlertBatch, "asyncio.Future[list[AlertResult]]"]


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
        self._waiting: list[Waiting] = []
        self._in_flight = 0
        self._calls: set[asyncio.Task[None]] = set()

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
        self._waiting.append((batch, done))
        if self._in_flight < IN_FLIGHT:
            self._call()
        return done

    def _call(self) -> None:
        """Send what waits (up to CALL_ALERTS alerts) in one call."""
        taken, alerts = 0, 0
        for batch, _ in self._waiting:
            if taken and alerts + len(batch.alerts) > CALL_ALERTS:
                break
            taken += 1
            alerts += len(batch.alerts)
        group, self._waiting = self._waiting[:taken], self._waiting[taken:]
        self._in_flight += 1
        task = asyncio.create_task(self._send(group))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _send(self, group: list[Waiting]) -> None:
        request = pb.IngestRequest(batches=[batch for batch, _ in group])
        try:
            # Batch ids make the call safe to repeat, even past its deadline.
            reply = await resend(lambda: self._stub.Ingest(request), after_deadline=True)
        except BaseException as exc:
            for _, done in group:
                _fail(done, exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for (batch, done), result in zip(group, reply.batches, strict=True):
                if result.HasField("error"):
                    _fail(done, self._refused(batch, error_of(result.error)))
                elif not done.done():
                    done.set_result([result_value(r) for r in result.results])
        finally:
            self._in_flight -= 1
            if self._waiting and self._in_flight < IN_FLIGHT:
                self._call()

    def _refused(self, batch: pb.AlertBatch, error: DomainError) -> DomainError:
        if isinstance(error, Unauthenticated):
            self._routes.forget(batch.integration_key)  # revoked since it was kept
        elif isinstance(error, Overloaded):
            self._full_until = time.monotonic() + error.retry_after
        return error

    async def aclose(self) -> None:
        await asyncio.gather(*self._calls, return_exceptions=True)


def _fail(done: asyncio.Future[list[AlertResult]], error: BaseException) -> None:
    if not done.done():  # a caller that went away cancelled its own
        done.set_exception(error)
