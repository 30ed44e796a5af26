"""Timeouts a service may set: acknowledgement timeout and auto-resolve.

An incident acknowledged and not resolved within the service's `ack_timeout_seconds`
goes back to triggered and is paged again from level 1 (PagerDuty's acknowledgement
timeout), so an acknowledged incident cannot be forgotten. An open incident that has had
no new alert for the service's `auto_resolve_seconds` resolves itself, with its alerts.

The engine claims due incidents with `FOR UPDATE SKIP LOCKED` (a row another engine
holds is skipped; once it commits, the incident no longer matches), so with any number
of engines each timeout acts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.api import AlertsInTx
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.retry import retry_conflicts
from oncallnova.incidents import events, holds, logic, store
from oncallnova.incidents.models import Incident
from oncallnova.services.api import ServicesApi, ServiceTimeouts

ACK_TIMEOUT = "ack_timeout"
AUTO_RESOLVE = "auto-resolve"
ENGINE = "escalation engine"

Cutoffs = dict[str, datetime]


def cutoffs(services: Sequence[ServiceTimeouts], now: datetime) -> tuple[Cutoffs, Cutoffs]:
    """Per service: acknowledged before this has timed out; no alert since this is stale."""
    ack = {
        s.service_id: now - timedelta(seconds=s.ack_timeout_seconds)
        for s in services
        if s.ack_timeout_seconds
    }
    stale = {
        s.service_id: now - timedelta(seconds=s.auto_resolve_seconds)
        for s in services
        if s.auto_resolve_seconds
    }
    return ack, stale


class Timeouts:
    def __init__(
        self, db: Database, clock: Clock, alerts: AlertsInTx, services: ServicesApi
    ) -> None:
        self._db = db
        self._clock = clock
        self._alerts = alerts
        self._services = services

    async def has_due(self, now: datetime) -> bool:
        """A cheap read: does any service set a timeout, and has one incident passed it?"""
        async with self._db.read() as session:
            ack, stale = cutoffs(await self._services.timeouts(session), now)
            return bool(ack or stale) and await store.any_timed_out(session, ack, stale)

    async def run_due(self, now: datetime, limit: int = 100) -> int:
        """Act on every timeout due at `now`; returns how many incidents changed."""
        total = 0
        while True:

            async def attempt() -> int:
                async with self._db.write() as session:
                    ack, stale = cutoffs(await self._services.timeouts(session), now)
                    due = await store.claim_timed_out(session, ack, stale, limit)
                    for incident in due:
                        cutoff = stale.get(incident.service_id)
                        if cutoff is not None and incident.last_alert_at <= cutoff:
                            await self._resolve(session, incident, now, cutoff)
                        elif incident.service_id in ack:
                            _unacknowledge(session, incident, now, ack[incident.service_id])
                    return len(due)

            done = await retry_conflicts(attempt)
            total += done
            if done < limit:
                return total

    async def _resolve(
        self, session: AsyncSession, incident: Incident, now: datetime, cutoff: datetime
    ) -> None:
        for name, value in logic.resolution(incident, now, AUTO_RESOLVE).items():
            if name != "id":
                setattr(incident, name, value)
        await self._alerts.resolve_for_incident(session, incident.id, now)
        quiet = _words(now - cutoff)
        message = f"Resolved automatically: no new alert for {quiet}"
        session.add(store.timeline_entry(incident.id, now, "resolved", AUTO_RESOLVE, message))
        events.emit(session, events.RESOLVED, now, incident, AUTO_RESOLVE)


def _unacknowledge(
    session: AsyncSession, incident: Incident, now: datetime, cutoff: datetime
) -> None:
    incident.status = logic.TRIGGERED
    holds.restart(incident, now)
    message = (
        f"Acknowledgement timed out after {_words(now - cutoff)} without a resolve: "
        "triggered again, paging from level 1"
    )
    if incident.silence_id or incident.maintenance_window_id:
        message += " once the silence or maintenance window holding it ends"
    session.add(store.timeline_entry(incident.id, now, ACK_TIMEOUT, ENGINE, message))
    events.emit(session, events.UNACKNOWLEDGED, now, incident, ENGINE)


def _words(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} s"
