"""Use cases of the incidents domain: correlation, lifecycle, timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.api import AlertsInTx
from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import NotFound
from oncallnova.core.ids import new_id
from oncallnova.core.retry import retry_conflicts
from oncallnova.core.tracing import Tracing
from oncallnova.core.vocab import most_severe
from oncallnova.incidents import events, holds, logic, severity, store, titles
from oncallnova.incidents.api import NewAlert, SeverityRaise
from oncallnova.incidents.models import Incident, TimelineEntry
from oncallnova.incidents.schemas import (
    IncidentDetail,
    IncidentFilter,
    IncidentOut,
    IncidentPage,
    StatusCounts,
    TimelineOut,
)
from oncallnova.notify.api import NotifyInTx
from oncallnova.oncall.api import PoliciesInTx

NamesLookup = Callable[[list[str]], Awaitable[dict[str, str]]]
_entry = store.timeline_row  # a timeline entry as a row, for bulk inserts


class IncidentService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        alerts: AlertsInTx,
        notify: NotifyInTx,
        *,
        policies: PoliciesInTx | None = None,
        service_names: NamesLookup | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._alerts = alerts
        self._notify = notify
        # Without policies, incidents open with no policy snapshot (nothing pages).
        self.policies = policies
        self.service_names = service_names
        self.tracing = tracing or Tracing()

    # --- called by other domains inside their transaction (IncidentsInTx) ---

    async def correlate(
        self, session: AsyncSession, alerts: list[NewAlert], now: datetime
    ) -> list[str]:
        # Tracing: a span around correlation, a child of `ingest.batch`.
        with self.tracing.tracer.start_as_current_span("incidents.correlate") as span:
            span.set_attribute("alerts.count", len(alerts))
            return await self._correlate(session, alerts, now)

    async def _correlate(
        self, session: AsyncSession, alerts: list[NewAlert], now: datetime
    ) -> list[str]:
        keys = sorted({(a.service_id, a.correlation_key) for a in alerts})
        live: dict[tuple[str, str], Incident] = {}
        for incident in await store.open_by_keys(session, keys):
            key = (incident.service_id, incident.correlation_key)
            current = live.get(key)
            if current is None or incident.last_alert_at > current.last_alert_at:
                live[key] = incident
        created: dict[str, dict[str, Any]] = {}
        changed: dict[str, dict[str, Any]] = {}
        timeline: list[dict[str, Any]] = []
        joined: dict[str, list[NewAlert]] = {}
        lifts: list[dict[str, Any]] = []  # silences' holds an unsilenced alert lifted
        openers: dict[str, NewAlert] = {}
        result: list[str] = []
        chosen: dict[tuple[str, str], str] = {}
        for alert in alerts:
            key = (alert.service_id, alert.correlation_key)
            incident_id = chosen.get(key)
            found = live.get(key)
            if incident_id is None and found is not None and _within(found, alert, now):
                incident_id = found.id
                changed[incident_id] = {
                    "id": incident_id,
                    "last_alert_at": now,
                    "alert_count": found.alert_count,
                    "severity": found.severity,
                }
            if incident_id is None:
                incident_id = new_id()
                created[incident_id] = _new_incident(incident_id, alert, now)
                timeline.append(
                    _entry(
                        incident_id,
                        now,
                        "triggered",
                        alert.actor,
                        f"Incident opened by alert: {alert.title}",
                        {"alert_id": alert.alert_id},
                    )
                )
                openers[incident_id] = alert
            else:
                row = changed.get(incident_id) or created[incident_id]
                row["alert_count"] += 1
                row["severity"] = most_severe(row["severity"], alert.severity)
                joined.setdefault(incident_id, []).append(alert)
                lifted = holds.on_join(found if incident_id in changed else None, row, alert, now)
                if lifted is not None:
                    lifts.append(lifted)
            chosen[key] = incident_id
            result.append(incident_id)
        # One entry per incident for the alerts that joined it together: an alert storm
        # reads as "250 alerts joined", not as 250 lines.
        timeline.extend(
            _joined_entry(incident_id, now, batch) for incident_id, batch in joined.items()
        )
        timeline.extend(severity.announce_joins(session, live.values(), changed, joined, now))
        timeline.extend(lifts)
        timeline.extend(holds.opened_notes(created, openers, now))
        await self._snapshot_policies(session, list(created.values()), alerts, now)
        await store.add_incidents(session, list(created.values()))
        # Announced once stored, so the event carries the incident's short number.
        for incident_id, row in created.items():
            events.emit(session, events.NEW, now, row, openers[incident_id].actor)
        await store.update_many(session, list(changed.values()))
        await store.add_timeline(session, timeline)
        return result

    async def _snapshot_policies(
        self,
        session: AsyncSession,
        rows: list[dict[str, Any]],
        alerts: list[NewAlert],
        now: datetime,
    ) -> None:
        """Freeze each new incident's escalation policy on it; the engine pages level 1."""
        policy_of = {a.service_id: a.escalation_policy_id for a in alerts}
        wanted = sorted({p for p in policy_of.values() if p})
        if not rows or not wanted or self.policies is None:
            return
        snapshots = await self.policies.snapshots(session, wanted)
        for row in rows:
            snapshot = snapshots.get(policy_of.get(row["service_id"]) or "")
            if snapshot is not None:
                row["escalation_policy_id"] = snapshot["id"]
                row["escalation_snapshot"] = snapshot
                row["next_escalation_at"] = now

    async def alerts_cleared(
        self, session: AsyncSession, incident_ids: list[str], now: datetime, actor: str
    ) -> None:
        rows, timeline = [], []
        for incident in await store.by_ids(session, incident_ids, lock=True):
            if incident.status == logic.RESOLVED:
                continue
            resolution = logic.resolution(incident, now, actor)
            rows.append(resolution)
            timeline.append(
                _entry(
                    incident.id,
                    now,
                    "resolved",
                    actor,
                    "Resolved automatically: every alert is resolved",
                )
            )
            events.emit(session, events.RESOLVED, now, incident, actor, changes=resolution)
        await store.update_many(session, rows)
        await store.add_timeline(session, timeline)

    async def acknowledge_by_alert(
        self, session: AsyncSession, incident_ids: list[str], now: datetime, actor: str
    ) -> None:
        for incident in await store.by_ids(session, incident_ids, lock=True):
            if incident.status == logic.TRIGGERED:
                await self._acknowledge(
                    session, incident, now, actor, "Acknowledged by the alert source"
                )

    async def raise_severity(
        self, session: AsyncSession, raises: list[SeverityRaise], now: datetime
    ) -> None:
        await severity.raise_for_repeats(session, raises, now)

    async def count_open(self, session: AsyncSession, service_id: str) -> int:
        return await store.count_open(session, service_id)

    async def annotate(
        self, session: AsyncSession, incident_id: str, now: datetime, actor: str, message: str
    ) -> None:
        incident = await _require(session, incident_id)
        await store.add_timeline(session, [_entry(incident_id, now, "note", actor, message)])
        events.emit(session, events.ANNOTATED, now, incident, actor, note=message)

    async def by_number(self, session: AsyncSession, service_id: str, number: int) -> str | None:
        incident = await store.by_reference(session, str(number))
        return incident.id if incident is not None and incident.service_id == service_id else None

    # --- use cases ---

    async def list(self, who: Principal, flt: IncidentFilter) -> IncidentPage:
        require(who, Role.viewer)
        async with self._db.read() as session:
            items, total = await store.page(session, flt)
            other_titles = await titles.lookup(self._alerts, session, items)
        out = await self._with_names(items)
        titles.show(out, other_titles)
        return IncidentPage(items=out, total=total, limit=flt.limit, offset=flt.offset)

    async def counts(self, who: Principal, flt: IncidentFilter) -> StatusCounts:
        """How many incidents per status match `flt` (its status filter aside)."""
        require(who, Role.viewer)
        async with self._db.read() as session:
            return StatusCounts(**await store.status_counts(session, flt))

    async def open_per_service(self, who: Principal) -> dict[str, int]:
        """How many incidents are open per service (services with none are left out)."""
        require(who, Role.viewer)
        async with self._db.read() as session:
            return await store.open_by_service(session)

    async def change_marker(self) -> tuple[Any, ...]:
        """Differs after any incident opens or changes (live pages poll it)."""
        async with self._db.read() as session:
            return await store.change_marker(session)

    async def detail(self, who: Principal, incident_id: str) -> IncidentDetail:
        """The incident, by its id or by its short number (all digits: "482"), with its
        alerts, its timeline (oldest first) and its pages."""
        require(who, Role.viewer)
        async with self._db.read() as session:
            incident = await store.by_reference(session, incident_id)
            if incident is None:
                raise NotFound(f"incident {incident_id} not found")
            entries = await store.timeline(session, incident.id)
            other_titles = await titles.lookup(self._alerts, session, [incident])
            pages = await self._notify.pages_of(session, incident.id)
        out = (await self._with_names([incident]))[0]
        titles.show([out], other_titles)
        return IncidentDetail(
            **out.model_dump(),
            alerts=await self._alerts.list_for_incident(incident.id),
            timeline=[TimelineOut.model_validate(e) for e in entries],
            pages=pages,
        )

    async def acknowledge(
        self, who: Principal, incident_id: str, message: str | None = None
    ) -> IncidentOut:
        require(who, Role.responder)
        actor = who.label

        async def work(session: AsyncSession) -> Incident:
            note(session, who, "incident.acknowledge", "incident", incident_id)
            incident = await _require(session, incident_id, lock=True)
            logic.check_acknowledge(incident.status)
            await self._acknowledge(session, incident, self._clock.now(), actor, message)
            return incident

        return await self._act(work)

    async def resolve(
        self, who: Principal, incident_id: str, message: str | None = None
    ) -> IncidentOut:
        require(who, Role.responder)
        actor = who.label

        async def work(session: AsyncSession) -> Incident:
            note(session, who, "incident.resolve", "incident", incident_id)
            incident = await _require(session, incident_id, lock=True)
            logic.check_resolve(incident.status)
            now = self._clock.now()
            for key, value in logic.resolution(incident, now, actor).items():
                if key != "id":
                    setattr(incident, key, value)
            await self._alerts.resolve_for_incident(session, incident_id, now)
            await store.add_timeline(
                session, [_entry(incident_id, now, "resolved", actor, message or "Resolved")]
            )
            events.emit(session, events.RESOLVED, now, incident, actor)
            return incident

        return await self._act(work)

    async def add_note(self, who: Principal, incident_id: str, message: str) -> TimelineOut:
        require(who, Role.responder)
        actor = who.label
        now = self._clock.now()
        entry = TimelineEntry(**_entry(incident_id, now, "note", actor, message))
        async with self._db.write() as session:
            incident = await _require(session, incident_id)
            session.add(entry)
            await session.flush()
            note(session, who, "incident.note", "incident", incident_id)
            events.emit(session, events.ANNOTATED, now, incident, actor, note=message)
        return TimelineOut.model_validate(entry)

    # --- helpers ---

    async def _acknowledge(
        self,
        session: AsyncSession,
        incident: Incident,
        now: datetime,
        actor: str,
        message: str | None,
    ) -> None:
        incident.status = logic.ACKNOWLEDGED
        incident.acknowledged_at = now
        incident.acknowledged_by = actor
        incident.mtta_seconds = logic.seconds_between(incident.created_at, now)
        incident.next_escalation_at = None
        entry = _entry(incident.id, now, "acknowledged", actor, message or "Acknowledged")
        await store.add_timeline(session, [entry])
        events.emit(session, events.ACKNOWLEDGED, now, incident, actor)

    async def _act(self, work: Callable[[AsyncSession], Awaitable[Incident]]) -> IncidentOut:
        async def attempt() -> Incident:
            async with self._db.write() as session:
                return await work(session)

        incident = await retry_conflicts(attempt)
        return (await self._with_names([incident]))[0]

    async def outs(self, incidents: list[Incident]) -> list[IncidentOut]:
        return await self._with_names(incidents)

    async def _with_names(self, incidents: list[Incident]) -> list[IncidentOut]:
        names: dict[str, str] = {}
        if self.service_names is not None and incidents:
            names = await self.service_names(sorted({i.service_id for i in incidents}))
        out = []
        for incident in incidents:
            item = IncidentOut.model_validate(incident)
            item.service_name = names.get(incident.service_id)
            item.escalation_level = incident.escalation_level + 1
            out.append(item)
        return out


async def _require(session: AsyncSession, incident_id: str, *, lock: bool = False) -> Incident:
    incident = await store.get(session, incident_id, lock=lock)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def _joined_entry(incident_id: str, now: datetime, alerts: list[NewAlert]) -> dict[str, Any]:
    titles = list(dict.fromkeys(a.title for a in alerts))
    shown = ", ".join(titles[:5]) + (f" (+{len(titles) - 5} more)" if len(titles) > 5 else "")
    message = (
        f"Alert joined: {shown}" if len(alerts) == 1 else f"{len(alerts)} alerts joined: {shown}"
    )
    return _entry(
        incident_id,
        now,
        "alert",
        alerts[0].actor,
        message,
        {"alert_ids": [a.alert_id for a in alerts[:50]], "count": len(alerts)},
    )


def _within(incident: Incident, alert: NewAlert, now: datetime) -> bool:
    return incident.last_alert_at >= now - timedelta(seconds=alert.window_seconds)


def _new_incident(incident_id: str, alert: NewAlert, now: datetime) -> dict[str, Any]:
    return {
        "id": incident_id,
        "service_id": alert.service_id,
        "title": alert.title,
        "severity": alert.severity,
        "status": logic.TRIGGERED,
        "correlation_key": alert.correlation_key,
        "alert_count": 1,
        "created_at": now,
        "last_alert_at": now,
        "escalation_level": -1,
        "escalation_round": 0,
        "escalation_step": 0,
        "escalation_policy_id": None,
        "escalation_snapshot": None,
        "silence_id": alert.silence_id,
        "maintenance_window_id": alert.maintenance_window_id,
        # Due at once even without a policy: the escalation step is what writes "paged
        # nobody" on the timeline and counts it.
        "next_escalation_at": now,
    }
