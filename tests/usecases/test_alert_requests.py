"""Alert requests (Opsgenie's Alert API) and integration heartbeats, called as the use
cases they are: in process, and over gRPC as the `ingestion` role calls them."""

from __future__ import annotations

from oncallnova.alerts.api import AlertRef, Requester
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.authz import SYSTEM
from oncallnova.incidents.schemas import IncidentFilter
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.services import Services
from oncallnova.services.schemas import ServiceIn


async def test_create_poll_acknowledge_and_close_by_alias(uc: Services, rt: Runtime) -> None:
    _, key = await rt.services.create(SYSTEM, ServiceIn(name="storage"))
    route = await uc.ingestion.authenticate(key.key)
    who = Requester(user="ops@example.com", source="nagios", note="disk at 97%")
    alert = NormalizedAlert(title="disk full", severity="high", dedup_key="disk-1")

    created = await uc.alert_requests.create(route, alert, "disk-1", who)
    polled = await uc.alert_requests.outcome(route, created.request_id)
    acked = await uc.alert_requests.acknowledge(route, AlertRef("disk-1", "alias"), who)
    closed = await uc.alert_requests.close(route, AlertRef("disk-1", "alias"), who)
    again = await uc.alert_requests.close(route, AlertRef("disk-1", "alias"), who)
    missing = await uc.alert_requests.close(route, AlertRef("no-such-id"), who)

    assert (created.action, created.success, created.alias) == ("Create", True, "disk-1")
    assert polled == created
    assert (acked.action, acked.success) == ("Acknowledge", True)
    assert (closed.action, closed.success) == ("Close", True)
    assert (again.success, again.status) == (True, "Alert is already closed")
    assert (missing.success, missing.status) == (False, "Alert does not exist")
    assert await uc.alert_requests.outcome(route, "unknown-request") is None
    assert created.alert_id is not None
    page = await uc.incidents.list(SYSTEM, IncidentFilter())
    assert [(i.status, i.resolved_by) for i in page.items] == [("resolved", "opsgenie:storage")]


async def test_heartbeats_are_counted_per_integration(uc: Services, rt: Runtime) -> None:
    service, key = await rt.services.create(SYSTEM, ServiceIn(name="grafana"))
    route = await uc.ingestion.authenticate(key.key)

    assert await uc.integration_beats.last(service.id, "grafana_alerting") is None
    await uc.integration_beats.beat(route, "grafana_alerting")
    rt.clock.advance(60)  # type: ignore[attr-defined]
    second = await uc.integration_beats.beat(route, "grafana_alerting")

    assert (second.beats, second.service_id) == (2, service.id)
    assert second.last_beat_at > second.first_beat_at
    assert await uc.integration_beats.last(service.id, "grafana_alerting") == second
