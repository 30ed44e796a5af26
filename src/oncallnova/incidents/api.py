"""What the incidents domain offers: the incident and escalation use cases
(`IncidentsService`, `EscalationService`), and what other domains may ask of it
(`IncidentsInTx`).

The `…InTx` Protocols take an `AsyncSession` and run inside the caller's transaction,
in the same process; they never cross a wire. The `...Service` Protocols are the use
cases: a `Principal` and typed values in, typed values out.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    # What holds the paging of an incident it opens: the silence that matched the alert,
    # the maintenance window of its service, and the timeline's words for them.
    silence_id: str | None = None
    maintenance_window_id: str | None = None
    hold_note: str | None = None


@dataclass(frozen=True)
class SeverityRaise:
    """A repeat of an open alert arrived at a higher severity than the alert had."""

    incident_id: str
    alert_id: str
    alert_title: str
    severity: str
    actor: str


class QuietView(Protocol):
    """The silences and maintenance windows as they stood when it was read (in process).
    Each answer is for the instant `now`, so a view read a little earlier stays right
    about starts and ends; it misses only what was created or changed since."""

    @property
    def has_silences(self) -> bool:
        """Whether any silence is pending or active (else no alert needs matching)."""
        ...

    def window_for(self, service_id: str, now: datetime) -> str | None:
        """The maintenance window covering the service at `now`, if any."""
        ...

    def silence_for(
        self,
        service_id: str,
        labels: Mapping[str, str],
        title: str,
        severity: str,
        source: str | None,
        now: datetime,
    ) -> str | None:
        """The silence matching such an alert of the service at `now`, if any."""
        ...

    def note(self, *, silence_id: str | None, window_id: str | None) -> str | None:
        """The timeline's words for an incident these hold, or None when neither is set."""
        ...


class QuietSource(Protocol):
    async def view(self, session: AsyncSession, now: datetime, *, fresh: bool = False) -> QuietView:
        """The view, from a short-lived cache unless `fresh` (then read in `session`)."""
        ...


@dataclass(frozen=True)
class HoldScope:
    """The open incidents whose holds to set again: those of these services (or of every
    service), and those a given silence or window holds now."""

    service_ids: tuple[str, ...] = ()
    all_services: bool = False
    silence_id: str | None = None
    window_id: str | None = None


class HoldsInTx(Protocol):
    async def recheck(
        self, session: AsyncSession, view: QuietView, now: datetime, actor: str, scope: HoldScope
    ) -> int:
        """Hold or release the open incidents of `scope` as `view` says at `now`: a held
        incident pages nobody; one released while triggered pages again from level 1.
        Firing alerts a silence matches are tagged with it. Returns how many changed."""
        ...


class IncidentsInTx(Protocol):
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
