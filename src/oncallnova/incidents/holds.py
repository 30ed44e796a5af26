"""Holds: what keeps an open incident from paging.

Two things hold an incident: a maintenance window of its service, and a silence, when a
silence matches every alert of it that is firing (as Alertmanager notifies a group unless
every alert in it is silenced). A held incident is stored and shown, marked with what
holds it, and the escalation engine skips it. When the last hold goes while it is still
triggered, paging starts again from level 1: whoever is on call at that moment is paged,
rather than the level it had reached before, whose page may have been ignored as planned
noise. An acknowledged incident stays acknowledged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.api import AlertsInTx
from oncallnova.incidents import logic, store
from oncallnova.incidents.api import HoldScope, NewAlert, QuietView
from oncallnova.incidents.models import Incident

SILENCED = "silenced"
MAINTENANCE = "maintenance"
RESUMED = "resumed"
WINDOW_NOTE = "In a maintenance window: nobody is paged until it ends"


class Holds:
    """Implements `HoldsInTx`; the escalation engine asks it before each step too."""

    def __init__(self, alerts: AlertsInTx) -> None:
        self._alerts = alerts

    async def recheck(
        self, session: AsyncSession, view: QuietView, now: datetime, actor: str, scope: HoldScope
    ) -> int:
        incidents = await store.open_for_holds(session, scope)
        before = {i.id: (i.silence_id, i.maintenance_window_id) for i in incidents}
        await self.apply(session, incidents, view, now, actor)
        return sum(1 for i in incidents if before[i.id] != (i.silence_id, i.maintenance_window_id))

    async def apply(
        self,
        session: AsyncSession,
        incidents: list[Incident],
        view: QuietView,
        now: datetime,
        actor: str,
    ) -> set[str]:
        """Set the holds of these (locked) incidents as `view` says at `now`; returns the
        ids of those held."""
        firing = (
            await self._alerts.firing_of(session, [i.id for i in incidents])
            if view.has_silences and incidents
            else {}
        )
        tags: dict[str, list[str]] = {}
        held: set[str] = set()
        for incident in incidents:
            alerts = firing.get(incident.id, [])
            matched = [
                view.silence_for(incident.service_id, a.labels, a.title, a.severity, a.source, now)
                for a in alerts
            ]
            for alert, silence_id in zip(alerts, matched, strict=True):
                if silence_id and alert.silence_id is None:
                    tags.setdefault(silence_id, []).append(alert.id)
            silence = matched[0] if matched and all(matched) else None
            window = view.window_for(incident.service_id, now)
            _set(session, incident, silence, window, view, now, actor)
            if silence or window:
                held.add(incident.id)
        for silence_id, alert_ids in tags.items():
            await self._alerts.tag_silenced(session, alert_ids, silence_id)
        return held


def _set(
    session: AsyncSession,
    incident: Incident,
    silence: str | None,
    window: str | None,
    view: QuietView,
    now: datetime,
    actor: str,
) -> None:
    was_held = bool(incident.silence_id or incident.maintenance_window_id)
    if window != incident.maintenance_window_id:
        message = (
            view.note(silence_id=None, window_id=window) or WINDOW_NOTE
            if window
            else "The maintenance window ended"
        )
        session.add(
            store.timeline_entry(
                incident.id, now, MAINTENANCE, actor, message, {"window_id": window}
            )
        )
        incident.maintenance_window_id = window
    if silence != incident.silence_id:
        message = (
            view.note(silence_id=silence, window_id=None) or "Silenced"
            if silence
            else "No longer silenced: a firing alert is not matched by any silence now"
        )
        session.add(
            store.timeline_entry(
                incident.id, now, SILENCED, actor, message, {"silence_id": silence}
            )
        )
        incident.silence_id = silence
    if was_held and not (silence or window) and incident.status == logic.TRIGGERED:
        restart(incident, now)
        session.add(
            store.timeline_entry(incident.id, now, RESUMED, actor, "Paging resumes from level 1")
        )


def restart(incident: Incident | dict[str, Any], now: datetime) -> None:
    """Escalate again from level 1, now (`incident` is a row or a row's update)."""
    values = {"escalation_level": -1, "escalation_round": 0, "next_escalation_at": now}
    if isinstance(incident, dict):
        incident.update(values)
    else:
        for name, value in values.items():
            setattr(incident, name, value)


def on_join(
    incident: Incident | None, row: dict[str, Any], alert: NewAlert, now: datetime
) -> dict[str, Any] | None:
    """An alert joins an incident (`incident` None: one opened in this same batch, whose
    new row is `row`; else `row` is the open incident's update). An alert no silence
    matches lifts a silence's hold: that incident pages. Returns its timeline entry."""
    if alert.silence_id is not None:
        return None
    if incident is None:
        row["silence_id"] = None  # it has not paged yet: no note needed
        return None
    if incident.silence_id is None or row.get("silence_id", incident.silence_id) is None:
        return None
    row["silence_id"] = None
    if incident.maintenance_window_id is not None or incident.status != logic.TRIGGERED:
        message = f"Alert joined that no silence matches: {alert.title}"
    else:
        restart(row, now)
        message = f"Alert joined that no silence matches: {alert.title}; paging from level 1"
    return store.timeline_row(
        incident.id, now, SILENCED, alert.actor, message, {"alert_id": alert.alert_id}
    )


def opened_notes(
    created: dict[str, dict[str, Any]], openers: dict[str, NewAlert], now: datetime
) -> list[dict[str, Any]]:
    """Timeline entries saying why new incidents page nobody."""
    entries = []
    for incident_id, row in created.items():
        opener = openers[incident_id]
        if row["silence_id"] == opener.silence_id and opener.hold_note:
            message = opener.hold_note
        elif row["maintenance_window_id"]:
            message = WINDOW_NOTE
        else:
            continue
        kind = SILENCED if row["silence_id"] else MAINTENANCE
        data = {"silence_id": row["silence_id"], "window_id": row["maintenance_window_id"]}
        entries.append(store.timeline_row(incident_id, now, kind, opener.actor, message, data))
    return entries
