"""The bundle of use cases the transports call: Protocols only.

HTTP routes and web pages reach the domains through this and nothing else, so what they
call is exactly what a gRPC client can implement: in the all-in-one every field is the
in-process service; in a split role it can be a client of another process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from oncallnova.alerts.api import AlertRequestsService, BeatsService, IngestionService
from oncallnova.analytics.api import AnalyticsService
from oncallnova.auth.api import AuditService, AuthService
from oncallnova.core.clock import Clock
from oncallnova.core.metrics import Metrics
from oncallnova.heartbeats.api import BeatService, HeartbeatsService
from oncallnova.incidents.api import (
    EscalationService,
    IncidentsService,
    SimilarIncidentsService,
)
from oncallnova.notify.api import ContactTestsService, WebhooksService
from oncallnova.oncall.api import OncallService, PoliciesService, SchedulesService
from oncallnova.services.api import CatalogService
from oncallnova.settings import Settings
from oncallnova.suppression.api import MaintenanceService, SilencesService
from oncallnova.users.api import ContactsService, UsersService


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    metrics: Metrics
    ingestion: IngestionService
    incidents: IncidentsService
    escalation: EscalationService
    similar_incidents: SimilarIncidentsService
    oncall: OncallService
    schedules: SchedulesService
    policies: PoliciesService
    catalog: CatalogService
    users: UsersService
    auth: AuthService
    audit: AuditService
    webhooks: WebhooksService
    contacts: ContactsService
    contact_tests: ContactTestsService
    analytics: AnalyticsService
    # Requests about one alert whose outcome senders poll (Opsgenie's Alert API), and
    # the heartbeats of integrations (Grafana OnCall's heartbeat URLs).
    alert_requests: AlertRequestsService
    integration_beats: BeatsService
    # Heartbeat monitors and their beats, silences, maintenance windows.
    heartbeats: HeartbeatsService
    beats: BeatService
    silences: SilencesService
    maintenance: MaintenanceService
    # The database as the health check and the error handler see it: reachable or not.
    ping_database: Callable[[], Awaitable[None]]
    database_failed: Callable[[BaseException], None]
