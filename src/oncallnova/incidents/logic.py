"""Pure rules of the incident lifecycle."""

from __future__ import annotations

from datetime import datetime

from oncallnova.core.errors import Conflict

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
