"""What the alerts domain offers: the ingestion use case the transports call
(`IngestionService`), and what other domains may ask of it (`AlertsApi`).

The Protocols whose methods take an `AsyncSession` run inside the caller's transaction,
in the same process; they never cross a wire. The `...Service` Protocols are the use
cases: a `Principal` and typed values in, typed values out.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertOut, AlertResult
from oncallnova.services.api import ServiceRoute

# Where a batch came from; it names the actor of the timeline entries it causes.
IngestSource = Literal["native", "alertmanager", "pagerduty"]


class IngestionService(Protocol):
    """Alerts sent with an integration key. The key is authenticated and the queue
    checked before the body is read, so these are separate calls."""

    def refuse_if_full(self) -> None:
        """`Overloaded` while the ingestion queue is full."""
        ...

    async def authenticate(self, key: str | None) -> ServiceRoute:
        """The route of an active integration key; `Unauthenticated` otherwise."""
        ...

    def ingest(
        self, route: ServiceRoute, alerts: list[NormalizedAlert], source: IngestSource
    ) -> Awaitable[list[AlertResult]]:
        """Store and count the alerts; completes once they are committed."""
        ...


class AlertWriter(Protocol):
    async def store_in(
        self,
        session: AsyncSession,
        route: ServiceRoute,
        alerts: list[NormalizedAlert],
        actor: str,
        now: datetime,
    ) -> list[AlertResult]:
        """Store alerts inside the caller's transaction exactly as ingestion does (dedup,
        correlation, silences and maintenance), for alerts OnCallNova raises itself."""
        ...


@dataclass(frozen=True, slots=True)
class FiringAlert:
    """What a silence is matched against, for an alert that is firing."""

    id: str
    incident_id: str
    labels: dict[str, str]
    title: str
    severity: str
    source: str | None
    silence_id: str | None


class AlertsApi(Protocol):
    async def resolve_for_incident(
        self, session: AsyncSession, incident_id: str, now: datetime
    ) -> int:
        """Resolve the incident's firing alerts; returns how many there were."""
        ...

    async def list_for_incident(self, incident_id: str) -> list[AlertOut]: ...

    async def firing_of(
        self, session: AsyncSession, incident_ids: list[str]
    ) -> dict[str, list[FiringAlert]]:
        """The firing alerts of these incidents, by incident."""
        ...

    async def tag_silenced(
        self, session: AsyncSession, alert_ids: list[str], silence_id: str
    ) -> None:
        """Record that `silence_id` silenced these alerts (those not tagged already)."""
        ...

    async def titles_of(
        self, session: AsyncSession, incident_ids: list[str], limit: int
    ) -> dict[str, tuple[list[str], int]]:
        """Per incident: distinct alert titles, newest first (at most `limit`), and how
        many distinct titles it has."""
        ...
