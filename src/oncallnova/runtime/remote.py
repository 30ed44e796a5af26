"""The front-end roles (`ingestion`, `web`): every use case a gRPC client of the role that
owns it, and no database of their own.

`incidents` (INCIDENTS_GRPC_ADDR) serves ingestion, incidents and escalation, services,
webhooks, analytics, heartbeat monitors and their beats, silences and maintenance
windows; `oncall` (ONCALL_GRPC_ADDR) serves on-call, schedules, policies, people and how
each is reached (contact methods, notification rules, shift reminders and their tests),
sign-in and the audit log. A channel connects on its first call, so a role
that never calls one (ingestion never calls oncall) never opens it.
"""

from __future__ import annotations

import asyncio

from grpc_health.v1 import health_pb2, health_pb2_grpc

from oncallnova.core.bus import EventBus
from oncallnova.core.clock import Clock, SystemClock
from oncallnova.core.errors import Unavailable
from oncallnova.core.logs import role_var
from oncallnova.core.metrics import Metrics
from oncallnova.core.ratelimit import RedisBreaker
from oncallnova.core.tracing import Tracing
from oncallnova.runtime.grpc_serving import GrpcEndpoint
from oncallnova.runtime.redis_parts import key_sharing, redis_channels
from oncallnova.runtime.roles import RoleName
from oncallnova.runtime.services import Services
from oncallnova.settings import Settings
from oncallnova.transport.changes import ChangeFeed
from oncallnova.transport.grpc.channel import open_channel
from oncallnova.transport.grpc.clients.alert_requests import AlertRequestsClient
from oncallnova.transport.grpc.clients.analytics import AnalyticsClient
from oncallnova.transport.grpc.clients.auth import AuditClient, AuthClient
from oncallnova.transport.grpc.clients.catalog import CatalogClient
from oncallnova.transport.grpc.clients.contacts import ContactsClient
from oncallnova.transport.grpc.clients.heartbeats import HeartbeatsClient
from oncallnova.transport.grpc.clients.incidents import IncidentsClient
from oncallnova.transport.grpc.clients.ingestion import IngestionClient
from oncallnova.transport.grpc.clients.notify import WebhooksClient
from oncallnova.transport.grpc.clients.oncall import OncallClient, PoliciesClient, SchedulesClient
from oncallnova.transport.grpc.clients.people import UsersClient
from oncallnova.transport.grpc.clients.suppression import MaintenanceClient, SilencesClient
from oncallnova.transport.grpc.interceptors import ROLE_KEY

SERVING = health_pb2.HealthCheckResponse.SERVING


class RemoteRuntime:
    """What `create_app` needs of a front-end role (see `transport.http.app.Host`)."""

    def __init__(
        self,
        settings: Settings,
        role: RoleName,
        *,
        clock: Clock | None = None,
        tracing: Tracing | None = None,
        grpc: GrpcEndpoint | None = None,
    ) -> None:
        self.settings = settings
        self.role = role
        self.clock: Clock = clock or SystemClock()
        self.tracing = tracing or Tracing.from_settings(settings, role=role_var.get() or role)
        self.bus = EventBus()
        self.metrics = Metrics()
        self.redis_breaker = RedisBreaker(count=self.metrics.count_redis_unavailable)
        self.pubsub = redis_channels(settings, self.metrics)
        self.grpc = grpc or GrpcEndpoint(role, None)
        self._channels = {
            "incidents": open_channel(settings.incidents_grpc_addr, settings, tracing=self.tracing),
            "oncall": open_channel(settings.oncall_grpc_addr, settings, tracing=self.tracing),
        }
        to_incidents, to_oncall = self._channels["incidents"], self._channels["oncall"]
        self.incidents = IncidentsClient(to_incidents)
        self._ingestion = IngestionClient(
            to_incidents,
            key_cache_seconds=settings.integration_key_cache_seconds,
            sharing=key_sharing(settings, self.pubsub, self.redis_breaker),
            tracing=self.tracing,
        )
        requests = AlertRequestsClient(to_incidents)
        contacts = ContactsClient(to_oncall)
        heartbeats = HeartbeatsClient(to_incidents)
        self.use_cases = Services(
            settings=settings,
            clock=self.clock,
            metrics=self.metrics,
            ingestion=self._ingestion,
            incidents=self.incidents,
            escalation=self.incidents,
            similar_incidents=self.incidents,
            oncall=OncallClient(to_oncall),
            schedules=SchedulesClient(to_oncall),
            policies=PoliciesClient(to_oncall),
            catalog=CatalogClient(to_incidents),
            users=UsersClient(to_oncall),
            auth=AuthClient(to_oncall),
            audit=AuditClient(to_oncall),
            webhooks=WebhooksClient(to_incidents),
            contacts=contacts,
            contact_tests=contacts,
            analytics=AnalyticsClient(to_incidents),
            alert_requests=requests,
            integration_beats=requests,
            heartbeats=heartbeats,
            beats=heartbeats,
            silences=SilencesClient(to_incidents),
            maintenance=MaintenanceClient(to_incidents),
            ping_database=self.ping,
            database_failed=lambda _exc: None,  # no database here: its owners log outages
        )

    async def ping(self) -> None:
        """Health: the roles this one calls answer SERVING (its `/health` says so)."""
        wanted = ["incidents"] if self.role is RoleName.ingestion else ["incidents", "oncall"]
        for name in wanted:
            stub = health_pb2_grpc.HealthStub(self._channels[name])
            try:
                reply = await stub.Check(
                    health_pb2.HealthCheckRequest(), timeout=2.0, metadata=((ROLE_KEY, name),)
                )
            except Exception as exc:
                raise Unavailable(f"the {name} role does not answer: {exc}") from exc
            if reply.status != SERVING:
                raise Unavailable(f"the {name} role is not serving")

    async def start(self, *, migrate: bool = True, engine: bool = True, api: bool = True) -> None:
        del migrate, engine, api  # the owners of the database migrate it and run engines
        if self.pubsub is not None:
            await self.pubsub.start()
        changes = ChangeFeed(self.incidents.change_marker, pubsub=self.pubsub)
        await self.grpc.start(self.use_cases, changes, self.clock, self.tracing)

    async def stop(self) -> None:
        await self.grpc.stop()
        await self._ingestion.aclose()  # calls in flight end before their channel closes
        await self.incidents.aclose()
        await asyncio.gather(*(channel.close() for channel in self._channels.values()))
        if self.pubsub is not None:
            await self.pubsub.aclose()
        self.tracing.shutdown()
