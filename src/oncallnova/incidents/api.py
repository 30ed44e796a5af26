"""What the incidents domain offers: the incident and escalation use cases
(`IncidentsService`, `EscalationService`), and what other domains may ask of it
(`IncidentsApi`).

The Protocols whose methods take an `AsyncSession` run inside the caller's transaction,
in the same process; they never cross a wire. The `...Service` Protocols are the use
cases: a `Principal` and typed values in, typed values out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal
from oncallnova.incidents.schemas import (
    IncidentDetail,
    IncidentFilter,
    IncidentOut,
    IncidentPage,
    SimilarIncidents,
    StatusCounts,
    TimelineOut,
)


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

    async def annotate(
        self, session: AsyncSession, incident_id: str, now: datetime, actor: str, message: str
    ) -> None:
        """A note on the incident's timeline from an alert source (`incident.annotated`)."""
        ...

    async def by_number(self, session: AsyncSession, service_id: str, number: int) -> str | None:
        """The id of the service's incident with this short number, or None."""
        ...


class IncidentsService(Protocol):
    async def list(self, who: Principal, flt: IncidentFilter) -> IncidentPage: ...

    async def counts(self, who: Principal, flt: IncidentFilter) -> StatusCounts:
        """How many incidents per status match `flt` (its status filter aside)."""
        ...

    async def open_per_service(self, who: Principal) -> dict[str, int]:
        """How many incidents are open per service (services with none are left out)."""
        ...

    async def change_marker(self) -> tuple[Any, ...]:
        """Differs after any incident opens or changes (live pages poll it)."""
        ...

    async def detail(self, who: Principal, incident_id: str) -> IncidentDetail:
        """The incident, by its id or by its short number (all digits: "482"), with its alerts, its
        timeline (oldest first) and its pages."""
        ...

    async def acknowledge(
        self, who: Principal, incident_id: str, message: str | None = None
    ) -> IncidentOut: ...

    async def resolve(
        self, who: Principal, incident_id: str, message: str | None = None
    ) -> IncidentOut: ...

    async def add_note(self, who: Principal, incident_id: str, message: str) -> TimelineOut: ...


class EscalationService(Protocol):
    async def escalate(self, who: Principal, incident_id: str) -> IncidentOut:
        """Page the next level now; an acknowledged incident becomes triggered again."""
        ...

    async def reassign(
        self, who: Principal, incident_id: str, *, user_id: str | None, policy_id: str | None
    ) -> IncidentOut: ...


class SimilarIncidentsService(Protocol):
    async def similar(self, who: Principal, incident_id: str, limit: int = 10) -> SimilarIncidents:
        """The incidents of the same service and correlation key opened before this one (by
        its id or short number), newest first (at most `limit`, 1 to 50), each with its
        resolution message, its last notes, MTTA and MTTR; and over all of them, how many
        there are, how many are resolved and their mean MTTA and MTTR."""
        ...
