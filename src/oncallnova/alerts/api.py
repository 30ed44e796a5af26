"""What the alerts domain offers: the ingestion use case the transports call
(`IngestionService`), and what other domains may ask of it (`AlertsInTx`).

The `…InTx` Protocols take an `AsyncSession` and run inside the caller's transaction,
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
IngestSource = Literal["native", "alertmanager", "pagerduty", "opsgenie", "grafana_oncall"]


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


@dataclass(frozen=True, slots=True)
class AlertRef:
    """Which alert of the key's service a request acts on: its `id`; its `alias` (the
    sender's dedup key: the open alert with it, else the latest); or `tiny`, the short
    number of its incident (#482), which then acts on every alert of that incident."""

    value: str
    kind: Literal["id", "tiny", "alias"] = "id"


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, as the sender names them (`user`, `source`), and the note they added;
    shown on the incident's timeline."""

    user: str | None = None
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """What became of one request; kept for a day so that the sender can poll it."""

    request_id: str
    service_id: str
    action: Literal["Create", "Close", "Acknowledge", "AddNote"]
    success: bool
    status: str
    processed_at: datetime
    alert_id: str | None = None
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class Beat:
    service_id: str
    kind: str
    first_beat_at: datetime
    last_beat_at: datetime
    beats: int


class AlertRequestsService(Protocol):
    """Requests about one alert whose outcome the sender polls for afterwards (Opsgenie's
    Alert API): each is done and its outcome stored before the call returns."""

    async def create(
        self, route: ServiceRoute, alert: NormalizedAlert, alias: str, who: Requester
    ) -> RequestOutcome:
        """Ingest the alert (dedup on `alias`), with the requester's note."""
        ...

    async def close(self, route: ServiceRoute, ref: AlertRef, who: Requester) -> RequestOutcome:
        """Resolve the alert (and so its incident once all its alerts are resolved)."""
        ...

    async def acknowledge(
        self, route: ServiceRoute, ref: AlertRef, who: Requester
    ) -> RequestOutcome:
        """Acknowledge the alert's incident."""
        ...

    async def add_note(self, route: ServiceRoute, ref: AlertRef, who: Requester) -> RequestOutcome:
        """Write `who.note` on the alert's incident timeline."""
        ...

    async def outcome(self, route: ServiceRoute, request_id: str) -> RequestOutcome | None:
        """A request of this key's service, or None (unknown, pruned, another service's)."""
        ...


class BeatsService(Protocol):
    """Heartbeats an integration sends to say it is alive."""

    async def beat(self, route: ServiceRoute, kind: str) -> Beat: ...

    async def last(self, service_id: str, kind: str) -> Beat | None: ...


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


class AlertsInTx(Protocol):
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
