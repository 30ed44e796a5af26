"""Repeats of open alerts that arrive at a higher severity raise their incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.incidents import events, logic, store
from oncallnova.incidents.api import SeverityRaise


async def raise_severity(session: AsyncSession, raises: list[SeverityRaise], now: datetime) -> None:
    """Raise each incident to the highest severity its repeats bring, if that is higher.

    The incident keeps its correlation key: the key names the group of alerts that
    opened it, and moving it to another bucket would stop its siblings from joining it
    and could leave two open incidents on one key. A new distinct alert at the new
    severity opens (or joins) the incident of its own bucket, so it is seen.
    """
    wanted: dict[str, SeverityRaise] = {}
    for item in raises:
        current = wanted.get(item.incident_id)
        if current is None or logic.worst(current.severity, item.severity) != current.severity:
            wanted[item.incident_id] = item
    rows: list[dict[str, Any]] = []
    timeline: list[dict[str, Any]] = []
    for incident in await store.by_ids(session, list(wanted), lock=True):
        item = wanted[incident.id]
        before = incident.severity
        if incident.status == logic.RESOLVED or logic.worst(before, item.severity) == before:
            continue
        rows.append({"id": incident.id, "severity": item.severity})
        timeline.append(
            {
                "incident_id": incident.id,
                "at": now,
                "kind": "severity",
                "actor": item.actor,
                "message": f"Severity raised from {before} to {item.severity} "
                f"by a repeat of: {item.alert_title}",
                "data": {"alert_id": item.alert_id, "from": before, "to": item.severity},
            }
        )
        events.emit(
            session,
            events.SEVERITY_RAISED,
            now,
            incident,
            item.actor,
            changes={"severity": item.severity},
            previous_severity=before,
            alert_id=item.alert_id,
        )
    await store.update_many(session, rows)
    await store.add_timeline(session, timeline)
