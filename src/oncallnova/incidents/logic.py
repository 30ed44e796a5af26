"""Pure rules of the incident lifecycle."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from oncallnova.core.errors import Conflict

if TYPE_CHECKING:
    from oncallnova.incidents.models import Incident

TRIGGERED = "triggered"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
OPEN_STATES = (TRIGGERED, ACKNOWLEDGED)


def check_acknowledge(status: str) -> None:
    if status == ACKNOWLEDGED:
        raise Conflict("the incident is already acknowledged")
    if status == RESOLVED:
        raise Conflict("the incident is resolved; it cannot be acknowledged")


def check_resolve(status: str) -> None:
    if status == RESOLVED:
        raise Conflict("the incident is already resolved")


def seconds_between(start: datetime, end: datetime) -> float:
    return max(0.0, round((end - start).total_seconds(), 3))


def resolution(incident: Incident, now: datetime, actor: str) -> dict[str, Any]:
    """The columns an incident resolved at `now` by `actor` gets (with its `id`)."""
    return {
        "id": incident.id,
        "status": RESOLVED,
        "resolved_at": now,
        "resolved_by": actor,
        "mttr_seconds": seconds_between(incident.created_at, now),
        "next_escalation_at": None,
    }
