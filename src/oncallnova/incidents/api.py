"""What other domains may ask of the incidents domain, inside their own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class NewAlert:
    """A newly opened alert that needs an incident."""

    alert_id: str
    service_id: str
    correlation_key: str
    window_seconds: int
    title: str
    severity: str
    actor: str
    escalation_policy_id: str | None = None


@dataclass(frozen=True)
class SeverityRaise:
    """A repeat of an open alert arrived at a higher severity than the alert had."""

    incident_id: str
    alert_id: str
    alert_title: str
    severity: str
    actor: str


class IncidentsApi(Protocol):
    async def correlate(
        self, session: AsyncSession, alerts: list[NewAlert], now: datetime
    ) -> list[str]:
        """The incident each alert joins (an open one within the window, or a new one)."""
        ...

    async def alerts_cleared(
        self, session: AsyncSession, incident_ids: list[str], now: datetime, actor: str
    ) -> None:
        """Every alert of these incidents is resolved: resolve the incidents that are open."""
        ...

    async def acknowledge_by_alert(
        self, session: AsyncSession, incident_ids: list[str], now: datetime, actor: str
    ) -> None:
        """An alert source acknowledged: acknowledge these incidents if they are triggered."""
        ...

    async def raise_severity(
        self, session: AsyncSession, raises: list[SeverityRaise], now: datetime
    ) -> None:
        """Raise these incidents to their alerts' new severity where it is higher, with a
        timeline entry and an event; never lowers one."""
        ...

    async def count_open(self, session: AsyncSession, service_id: str) -> int: ...
