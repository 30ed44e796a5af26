"""What the alerts domain offers: the ingestion use case the transports call
(`IngestionService`), and what other domains may ask of it (`AlertsApi`).

The Protocols whose methods take an `AsyncSession` run inside the caller's transaction,
in the same process; they never cross a wire. The `...Service` Protocols are the use
cases: a `Principal` and typed values in, typed values out.
"""

from __future__ import annotations

from collections.abc import Awaitable
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
        self,
        route: ServiceRoute,
        alerts: list[NormalizedAlert],
        source: IngestSource,
        batch_id: str | None = None,
    ) -> Awaitable[list[AlertResult]]:
        """Store and count the alerts; completes once they are committed. With a
        `batch_id` (an idempotency key), the same batch sent again stores and counts
        nothing more and completes with the first delivery's results."""
        ...


class AlertsApi(Protocol):
    async def resolve_for_incident(
        self, session: AsyncSession, incident_id: str, now: datetime
    ) -> int:
        """Resolve the incident's firing alerts; returns how many there were."""
        ...

    async def list_for_incident(self, incident_id: str) -> list[AlertOut]: ...

    async def titles_of(
        self, session: AsyncSession, incident_ids: list[str], limit: int
    ) -> dict[str, tuple[list[str], int]]:
        """Per incident: distinct alert titles, newest first (at most `limit`), and how
        many distinct titles it has."""
        ...
