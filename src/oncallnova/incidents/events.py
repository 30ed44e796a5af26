"""The domain events of the incident lifecycle, each carrying the incident as it stands."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.bus import Event, record
from oncallnova.incidents.models import Incident

NEW = "incident.new"
ACKNOWLEDGED = "incident.acknowledged"
RESOLVED = "incident.resolved"
ESCALATED = "incident.escalated"
REASSIGNED = "incident.reassigned"
ANNOTATED = "incident.annotated"
SEVERITY_RAISED = "incident.severity_raised"
# PagerDuty's name for an acknowledgement that timed out: triggered again.
UNACKNOWLEDGED = "incident.unacknowledged"
ALL = (
    NEW,
    ACKNOWLEDGED,
    RESOLVED,
    ESCALATED,
    REASSIGNED,
    ANNOTATED,
    SEVERITY_RAISED,
    UNACKNOWLEDGED,
)

_FIELDS = (
    "id",
    "number",
    "service_id",
    "title",
    "severity",
    "status",
    "alert_count",
    "created_at",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_at",
    "resolved_by",
    "mtta_seconds",
    "mttr_seconds",
    "escalation_level",
    "escalation_round",
    "silence_id",
    "maintenance_window_id",
)


def snapshot(source: Incident | Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """The incident as JSON-ready data, with `changes` applied on top."""
    get = source.get if isinstance(source, Mapping) else lambda k: getattr(source, k, None)
    data: dict[str, Any] = {name: get(name) for name in _FIELDS}
    data.update(changes)
    for name, value in data.items():
        if isinstance(value, datetime):
            data[name] = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    data["escalation_level"] = int(data.get("escalation_level") or -1) + 1
    data["escalation_round"] = int(data.get("escalation_round") or 0)
    return data


def emit(
    session: AsyncSession,
    kind: str,
    now: datetime,
    incident: Incident | Mapping[str, Any],
    actor: str,
    **extra: Any,
) -> None:
    changes = extra.pop("changes", {})
    record(
        session,
        Event(kind, now, {"incident": snapshot(incident, **changes), "agent": actor, **extra}),
    )
