"""Which gRPC servicers a role serves, over the use cases it was built with, and their
server's life: started with the role, health turned NOT_SERVING first when it stops.

The servicers are the same whoever builds the bundle: over in-process use cases in the
`incidents` and `oncall` roles, and over gRPC clients in `ingestion`, whose IngestService
hands each batch on to `incidents` (so senders inside the installation can post alerts
over gRPC too).
"""

from __future__ import annotations

import logging

from oncallnova.core.clock import Clock
from oncallnova.core.tracing import Tracing
from oncallnova.runtime.roles import ROLES, RoleName
from oncallnova.runtime.services import Services
from oncallnova.settings import Settings
from oncallnova.transport.changes import ChangeFeed
from oncallnova.transport.grpc.channel import server_tracing
from oncallnova.transport.grpc.server import GrpcServer, build_server
from oncallnova.transport.grpc.servicers.alert_requests import AlertRequestServicer
from oncallnova.transport.grpc.servicers.analytics import AnalyticsServicer
from oncallnova.transport.grpc.servicers.auth import AuthServicer
from oncallnova.transport.grpc.servicers.catalog import CatalogServicer
from oncallnova.transport.grpc.servicers.contacts import ContactServicer
from oncallnova.transport.grpc.servicers.heartbeats import HeartbeatServicer
from oncallnova.transport.grpc.servicers.incidents import IncidentServicer
from oncallnova.transport.grpc.servicers.ingestion import IngestServicer
from oncallnova.transport.grpc.servicers.notify import WebhooksServicer
from oncallnova.transport.grpc.servicers.oncall import OnCallServicer
from oncallnova.transport.grpc.servicers.people import PeopleServicer
from oncallnova.transport.grpc.servicers.suppression import MaintenanceServicer, SilenceServicer

log = logging.getLogger("oncallnova")


def servicers(role: RoleName, svc: Services, changes: ChangeFeed, clock: Clock) -> list[object]:
    ingest = IngestServicer(
        svc.ingestion, svc.settings.max_batch_alerts, outage=svc.database_failed
    )
    if role is RoleName.ingestion:
        return [ingest]
    if role is RoleName.incidents:
        return [
            ingest,
            AlertRequestServicer(svc.ingestion, svc.alert_requests, svc.integration_beats),
            IncidentServicer(svc.incidents, svc.escalation, svc.similar_incidents, changes, clock),
            CatalogServicer(svc.catalog),
            WebhooksServicer(svc.webhooks),
            AnalyticsServicer(svc.analytics),
            HeartbeatServicer(svc.heartbeats, svc.beats),
            SilenceServicer(svc.silences),
            MaintenanceServicer(svc.maintenance),
        ]
    if role is RoleName.oncall:
        return [
            OnCallServicer(svc.oncall, svc.schedules, svc.policies),
            PeopleServicer(svc.users),
            ContactServicer(svc.contacts, svc.contact_tests),
            AuthServicer(svc.auth, svc.audit),
        ]
    return []


class GrpcEndpoint:
    """A role's gRPC server on `address` (`host:port`), or nothing for a role without one."""

    def __init__(self, role: RoleName, address: str | None) -> None:
        self.role = role
        self.address = address
        self.port: int | None = None
        self._server: GrpcServer | None = None

    @classmethod
    def default(cls, role: RoleName, host: str, port: int | None) -> GrpcEndpoint:
        """On `port`, or the role's own port from the roles table."""
        chosen = port if port is not None else ROLES[role].grpc_port
        return cls(role, None if chosen is None else f"{host}:{chosen}")

    async def start(
        self, svc: Services, changes: ChangeFeed, clock: Clock, tracing: Tracing
    ) -> None:
        found = servicers(self.role, svc, changes, clock)
        if not found or self.address is None:
            return
        self._server = build_server(
            found,
            svc.settings,
            interceptors=server_tracing(tracing),
            database_failed=svc.database_failed,
        )
        self.port = await self._server.start(self.address)
        log.info("gRPC: %s serving on %s", ", ".join(self._server.services), self.address)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None


# The roles that serve or call gRPC.
TALKING = frozenset({RoleName.ingestion, RoleName.incidents, RoleName.oncall, RoleName.web})


def needs_token(settings: Settings, role: RoleName) -> None:
    """A role that talks gRPC refuses to start without the token the roles share."""
    if role in TALKING and not settings.internal_token:
        raise SystemExit(
            f"--role {role.value} needs ONCALLNOVA_INTERNAL_TOKEN (the secret the roles share "
            "to call each other over gRPC; at least 16 bytes)"
        )
