"""An incident's severity only rises, and never silently: each rise writes a timeline
entry and an `incident.severity_raised` event, whether a repeat of an open alert came at
a higher severity or a more severe alert joined it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.vocab import most_severe
from oncallnova.incidents import events, logic, store
from oncallnova.incidents.api import NewAlert, SeverityRaise
from oncallnova.incidents.models import Incident


async def raise_for_repeats(
    session: AsyncSession, raises: list[SeverityRaise], now: datetime
) -> None:
    """Raise each incident to the highest severity its repeats bring, if that is higher.

    The incident keeps its correlation key: the key names the group of alerts that
    opened it, and moving it to another bucket would stop its siblings from joining it
    and could leave two open incidents on one key. A new distinct alert at the new
    severity opens (or joins) the incident of its own bucket, so it is seen.
    """
    wanted: dict[str, SeverityRaise] = {}
    for item in raises:
        current = wanted.get(item.incident_id)
        if current is None or most_severe(current.severity, item.severity) != current.severity:
            wanted[item.incident_id] = item
    rows: list[dict[str, Any]] = []
    timeline: list[dict[str, Any]] = []
    for incident in await store.by_ids(session, list(wanted), lock=True):
        item = wanted[incident.id]
        before = incident.severity
        if incident.status == logic.RESOLVED or most_severe(before, item.severity) == before:
            continue
        row = {"id": incident.id, "severity": item.severity}
        rows.append(row)
        how = f"a repeat of: {item.alert_title}"
        timeline.append(announce(session, incident, row, item.alert_id, how, item.actor, now))
    await store.update_many(session, rows)
    await store.add_timeline(session, timeline)


def announce_joins(
    session: AsyncSession,
    incidents: Iterable[Incident],
    changed: dict[str, dict[str, Any]],
    joined: dict[str, list[NewAlert]],
    now: datetime,
) -> list[dict[str, Any]]:
    """The timeline entries (and events) of open incidents that alerts joining them
    raised; `changed` holds each incident's new row, `joined` the alerts that joined."""
    entries = []
    for incident in incidents:
        row = changed.get(incident.id)
        if row is None or row["severity"] == incident.severity:
            continue
        alert = next(a for a in joined[incident.id] if a.severity == row["severity"])
        how = f"alert: {alert.title}"
        entries.append(announce(session, incident, row, alert.alert_id, how, alert.actor, now))
    return entries


def announce(
    session: AsyncSession,
    incident: Incident,
    row: dict[str, Any],
    alert_id: str,
    how: str,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Emit the event of a rise to `row["severity"]`; returns its timeline entry."""
    before, after = incident.severity, row["severity"]
    changes = {k: v for k, v in row.items() if k != "id"}
    events.emit(
        session,
        events.SEVERITY_RAISED,
        now,
        incident,
        actor,
        changes=changes,
        previous_severity=before,
        alert_id=alert_id,
    )
    return {
        "incident_id": incident.id,
        "at": now,
        "kind": "severity",
        "actor": actor,
        "message": f"Severity raised from {before} to {after} by {how}",
        "data": {"alert_id": alert_id, "from": before, "to": after},
    }
