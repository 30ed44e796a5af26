"""The roles OnCallNova runs as: what each does, its ports, and the HTTP paths a gateway
sends to it.

This table is the one source for everything that must agree on them: `serve --role`'s
default ports, the composition root (which parts a role builds), the gateway's
routing (Traefik's file configuration and the Compose labels are generated from it),
and the deployment files. `all` is the default single process.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RoleName(StrEnum):
    all = "all"
    ingestion = "ingestion"
    incidents = "incidents"
    oncall = "oncall"
    web = "web"
    metrics = "metrics"
    engine = "engine"


@dataclass(frozen=True, slots=True)
class Role:
    name: RoleName
    summary: str
    # Default ports; None where the role does not listen on that protocol.
    http_port: int | None
    grpc_port: int | None
    # Path prefixes of the requests a gateway routes to this role (longest match wins;
    # `web` takes whatever no other role claims). Empty: not behind the gateway.
    http_prefixes: tuple[str, ...] = ()
    # Names of the gRPC services (package `oncallnova.v1`) this role serves.
    grpc_services: tuple[str, ...] = ()


ROLES: dict[RoleName, Role] = {
    role.name: role
    for role in (
        Role(
            RoleName.all,
            "everything in one process (the default): SQLite or PostgreSQL, no gRPC hop",
            http_port=8080,
            grpc_port=None,
        ),
        Role(
            RoleName.ingestion,
            "receives alerts in every format, checks the integration key, validates; "
            "hands each batch to `incidents` over gRPC and answers once it is stored",
            http_port=8001,
            grpc_port=50051,
            http_prefixes=(
                "/api/v1/alerts",
                "/api/v1/integrations",
                "/v2/enqueue",
                "/v2/alerts",
                "/integrations/v1",
                "/api/v1/heartbeats",
            ),
        ),
        Role(
            RoleName.incidents,
            "stores alerts (dedup, correlation), incident lifecycle, services and their "
            "keys, webhooks, analytics, heartbeat monitors, silences, maintenance windows",
            http_port=8002,
            grpc_port=50052,
            http_prefixes=(
                "/api/v1/incidents",
                "/api/v1/services",
                "/api/v1/webhooks",
                "/api/v1/analytics",
                "/api/v1/heartbeat-monitors",
                "/api/v1/maintenance-windows",
                "/api/v1/silences",
            ),
            grpc_services=(
                "IngestService",
                "AlertRequestService",
                "IncidentService",
                "CatalogService",
                "WebhookService",
                "AnalyticsService",
                "HeartbeatService",
                "SilenceService",
                "MaintenanceService",
            ),
        ),
        Role(
            RoleName.oncall,
            "users, teams, schedules, who is on call, escalation policies, sign-in",
            http_port=8003,
            grpc_port=50053,
            http_prefixes=(
                "/api/v1/users",
                "/api/v1/teams",
                "/api/v1/schedules",
                "/api/v1/escalation-policies",
                "/api/v1/oncall",
                "/api/v1/auth",
                "/api/v1/audit",
                "/api/v1/calendars",
            ),
            grpc_services=("OnCallService", "PeopleService", "ContactService", "AuthService"),
        ),
        Role(
            RoleName.web,
            "the web UI and its live stream; reads and acts through the other roles' gRPC APIs",
            http_port=8080,
            grpc_port=None,
            http_prefixes=("/",),
        ),
        Role(
            RoleName.metrics,
            "GET /metrics for Prometheus (state read from the shared database)",
            http_port=9090,
            grpc_port=None,
        ),
        Role(
            RoleName.engine,
            "reconcilers: escalation, notification delivery, heartbeat expiry, silences' and "
            "maintenance windows' starts and ends, acknowledgement timeout, auto-resolve; no HTTP",
            http_port=None,
            grpc_port=None,
        ),
    )
}

# The roles of a split installation, in the order they are best started.
SPLIT_ROLES: tuple[RoleName, ...] = (
    RoleName.incidents,
    RoleName.oncall,
    RoleName.ingestion,
    RoleName.web,
    RoleName.metrics,
    RoleName.engine,
)
