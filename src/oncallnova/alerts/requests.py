"""Requests about one alert whose outcome the sender polls for (Opsgenie's Alert API),
and integration heartbeats.

Creating, closing and acknowledging go through the ingestion pipeline, like every other
alert a sender posts: the same locks, dedup and incident rules apply, and a close that
leaves no alert of an incident firing resolves the incident. The outcome is stored once
that is committed, in a second short transaction (with the requester's note, if any),
so a sender that polls for it finds it as soon as the call has returned. Outcomes past
`RETENTION` are deleted in that same transaction, at most every `PRUNE_EVERY` per
process: an idle installation does nothing, and any number of processes may prune.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from oncallnova.alerts import request_store as store
from oncallnova.alerts.api import (
    AlertRef,
    Beat,
    IngestionService,
    IngestSource,
    Requester,
    RequestOutcome,
)
from oncallnova.alerts.logic import Action, NormalizedAlert, dedup_key_for
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.ids import new_id
from oncallnova.incidents.api import IncidentsInTx
from oncallnova.services.api import ServiceRoute

FIRING = "firing"
# How long an outcome can be polled for.
RETENTION = timedelta(days=1)
PRUNE_EVERY = timedelta(minutes=10)
_MAX_NUMBER = 2**31 - 1
MISSING = "Alert does not exist"


class AlertRequests:
    """Implements `alerts.api.AlertRequestsService` in process."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ingestion: IngestionService,
        incidents: IncidentsInTx,
        source: IngestSource = "opsgenie",
    ) -> None:
        self._db = db
        self._clock = clock
        self._ingestion = ingestion
        self._incidents = incidents
        self._source = source
        self._next_prune: datetime | None = None

    async def create(
        self, route: ServiceRoute, alert: NormalizedAlert, alias: str, who: Requester
    ) -> RequestOutcome:
        [result] = await self._ingestion.ingest(route, [alert], self._source)
        status = (
            "Alert already exists; its count was increased"
            if result.deduplicated
            else ("Created alert")
        )
        return await self._finish(
            route, "Create", True, status, result.alert_id, alias, result.incident_id, who
        )

    async def close(self, route: ServiceRoute, ref: AlertRef, who: Requester) -> RequestOutcome:
        found = await self._find(route, ref)
        if not found:
            return await self._finish(route, "Close", False, MISSING, None, _alias(ref), None)
        firing = await self._through_pipeline(route, found, "resolve")
        status = "Closed alert" if firing else "Alert is already closed"
        alert_id, _, incident_id, _, key = found[0]
        return await self._finish(
            route, "Close", True, status, alert_id, _alias(ref, key), incident_id, who
        )

    async def acknowledge(
        self, route: ServiceRoute, ref: AlertRef, who: Requester
    ) -> RequestOutcome:
        found = await self._find(route, ref)
        if not found:
            return await self._finish(route, "Acknowledge", False, MISSING, None, _alias(ref), None)
        firing = await self._through_pipeline(route, found, "acknowledge")
        alert_id, _, incident_id, _, key = found[0]
        if not firing:
            status = "Alert is closed; it cannot be acknowledged"
            return await self._finish(
                route, "Acknowledge", False, status, alert_id, _alias(ref, key), None
            )
        return await self._finish(
            route,
            "Acknowledge",
            True,
            "Acknowledged alert",
            alert_id,
            _alias(ref, key),
            incident_id,
            who,
        )

    async def add_note(self, route: ServiceRoute, ref: AlertRef, who: Requester) -> RequestOutcome:
        found = await self._find(route, ref)
        if not found:
            return await self._finish(route, "AddNote", False, MISSING, None, _alias(ref), None)
        alert_id, _, incident_id, _, key = found[0]
        return await self._finish(
            route, "AddNote", True, "Added note", alert_id, _alias(ref, key), incident_id, who
        )

    async def outcome(self, route: ServiceRoute, request_id: str) -> RequestOutcome | None:
        async with self._db.read() as session:
            return await store.outcome(session, route.service_id, request_id)

    async def _find(self, route: ServiceRoute, ref: AlertRef) -> list[store.Found]:
        async with self._db.read() as session:
            if ref.kind == "id":
                return await store.alert_by_id(session, route.service_id, ref.value)
            if ref.kind == "alias":
                key = dedup_key_for(ref.value)
                return await store.alert_by_fingerprint(session, route.service_id, key)
            if not (ref.value.isascii() and ref.value.isdigit()) or int(ref.value) > _MAX_NUMBER:
                return []
            incident_id = await self._incidents.by_number(session, route.service_id, int(ref.value))
            if incident_id is None:
                return []
            return await store.alerts_of_incident(session, incident_id)

    async def _through_pipeline(
        self, route: ServiceRoute, found: list[store.Found], action: Action
    ) -> bool:
        """Resolve or acknowledge the firing ones among `found` as their sender would;
        False when none was firing."""
        keys = sorted({fingerprint for _, fingerprint, _, status, _ in found if status == FIRING})
        if not keys:
            return False
        alerts = [
            NormalizedAlert(title="", severity="low", action=action, dedup_key=key) for key in keys
        ]
        await self._ingestion.ingest(route, alerts, self._source)
        return True

    async def _finish(
        self,
        route: ServiceRoute,
        action: str,
        success: bool,
        status: str,
        alert_id: str | None,
        alias: str | None,
        incident_id: str | None,
        who: Requester | None = None,
    ) -> RequestOutcome:
        now = self._clock.now()
        outcome = RequestOutcome(
            request_id=str(new_id()),
            service_id=route.service_id,
            action=action,  # type: ignore[arg-type]
            success=success,
            status=status,
            processed_at=now,
            alert_id=alert_id,
            alias=alias,
        )
        async with self._db.write() as session:
            if who is not None and who.note and incident_id is not None:
                actor = f"{self._source}:{route.service_name}"
                by = who.user or who.source
                message = f"{who.note} ({by})" if by else who.note
                await self._incidents.annotate(session, incident_id, now, actor, message)
            await store.add_outcome(session, outcome)
            if self._next_prune is None or now >= self._next_prune:
                self._next_prune = now + PRUNE_EVERY
                await store.prune_outcomes(session, now - RETENTION)
        return outcome


def _alias(ref: AlertRef, dedup_key: str | None = None) -> str | None:
    if ref.kind == "alias":
        return ref.value
    return dedup_key


class Beats:
    """Implements `alerts.api.BeatsService` in process."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def beat(self, route: ServiceRoute, kind: str) -> Beat:
        async with self._db.write() as session:
            return await store.beat(session, route.service_id, kind, self._clock.now())

    async def last(self, service_id: str, kind: str) -> Beat | None:
        async with self._db.read() as session:
            return await store.last_beat(session, service_id, kind)
