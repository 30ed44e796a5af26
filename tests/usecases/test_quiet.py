"""Heartbeats, silences, maintenance windows and a service's timeouts, called as the use
cases they are: in process, and over gRPC as the `web` and `ingestion` roles call them."""

from __future__ import annotations

from datetime import timedelta

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.authz import SYSTEM, Principal, Role
from oncallnova.heartbeats.schemas import MonitorIn
from oncallnova.incidents.schemas import IncidentFilter
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.services import Services
from oncallnova.services.schemas import ServiceIn, ServicePatch
from oncallnova.suppression.schemas import MatcherIn, SilenceIn, WindowIn

VIEWER = Principal(user_id="v", name="Viewer", email="v@example.com", role=Role.viewer)


async def _alert(rt: Runtime, key: str, title: str, severity: str, **labels: str) -> str:
    route = await rt.ingestion.authenticate(key)
    alert = NormalizedAlert(title=title, severity=severity, labels=labels)
    incident_id = (await rt.ingestion.ingest(route, [alert], "native"))[0].incident_id
    assert incident_id is not None
    return incident_id


async def test_held_incidents_say_what_holds_them_and_can_be_shown_or_hidden(
    uc: Services, rt: Runtime
) -> None:
    db, db_key = await rt.services.create(SYSTEM, ServiceIn(name="db"))
    _, web_key = await rt.services.create(SYSTEM, ServiceIn(name="web"))
    assert db_key.key is not None and web_key.key is not None
    ends_at = rt.clock.now() + timedelta(hours=1)
    window = await rt.use_cases.maintenance.create(
        SYSTEM, WindowIn(service_ids=[db.id], ends_at=ends_at, description="upgrade")
    )
    canary = [MatcherIn(name="env", value="canary")]
    silence = await rt.use_cases.silences.create(
        SYSTEM, SilenceIn(matchers=canary, ends_at=ends_at, comment="canary noise")
    )
    held = await _alert(rt, db_key.key, "replica lag", "high")
    silenced = await _alert(rt, web_key.key, "slow", "low", env="canary")
    paging = await _alert(rt, web_key.key, "down", "critical", env="prod")

    async def listed(**flt: bool) -> list[str]:
        page = await uc.incidents.list(VIEWER, IncidentFilter(**flt))
        return [i.id for i in page.items]

    assert await listed(maintenance=True) == [held]
    assert await listed(silenced=True) == [silenced]
    assert await listed(silenced=False, maintenance=False) == [paging]
    counts = await uc.incidents.counts(VIEWER, IncidentFilter(silenced=False))
    assert (counts.triggered, counts.acknowledged, counts.resolved) == (2, 0, 0)
    one = await uc.incidents.detail(VIEWER, silenced)
    assert (one.silence_id, one.maintenance_window_id) == (silence.id, None)
    assert [a.silence_id for a in one.alerts] == [silence.id]
    other = await uc.incidents.detail(VIEWER, held)
    assert (other.silence_id, other.maintenance_window_id) == (None, window.id)
    assert [a.silence_id for a in other.alerts] == [None]


async def test_a_monitor_beaten_as_the_ingestion_role_beats_it(uc: Services, rt: Runtime) -> None:
    service, _ = await rt.services.create(SYSTEM, ServiceIn(name="backups"))
    data = MonitorIn(service_id=service.id, name="nightly", interval_seconds=60)
    monitor = await uc.heartbeats.create(SYSTEM, data)
    assert monitor.token is not None and monitor.state == "inactive"

    first = await uc.beats.beat(monitor.token)
    rt.clock.advance(61)  # type: ignore[attr-defined]
    assert await rt.quiet.heartbeats.expire_due(rt.clock.now()) == 1
    expired = await uc.heartbeats.get(VIEWER, monitor.id)
    back = await uc.beats.beat(monitor.token)

    assert (first.state, first.resolved) == ("up", False)
    assert (expired.state, expired.token) == ("expired", None)
    assert (back.state, back.resolved) == ("up", True)
    page = await uc.incidents.list(VIEWER, IncidentFilter(service_id=service.id))
    assert [i.status for i in page.items] == ["resolved"]


async def test_a_services_timeouts_are_set_and_cleared(uc: Services, rt: Runtime) -> None:
    data = ServiceIn(name="api", ack_timeout_seconds=600, auto_resolve_seconds=86400)
    made, _ = await uc.catalog.create(SYSTEM, data)
    assert (made.ack_timeout_seconds, made.auto_resolve_seconds) == (600, 86400)
    cleared = await uc.catalog.update(SYSTEM, made.id, ServicePatch(ack_timeout_seconds=None))
    assert (cleared.ack_timeout_seconds, cleared.auto_resolve_seconds) == (None, 86400)
    assert await uc.catalog.get(VIEWER, made.id) == await rt.services.get(VIEWER, made.id)
