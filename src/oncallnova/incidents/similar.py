"""Similar past incidents: the earlier incidents of an incident's service and correlation
key, with how each was resolved and how long it took, so a responder (or an assistant)
can start from what worked last time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from oncallnova.alerts.api import AlertsInTx
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.db import Database
from oncallnova.core.errors import InvalidInput, NotFound
from oncallnova.incidents import store, titles
from oncallnova.incidents.logic import RESOLVED
from oncallnova.incidents.models import Incident
from oncallnova.incidents.schemas import (
    IncidentOut,
    PastIncident,
    SimilarIncidents,
    TimelineOut,
)

Present = Callable[[list[Incident]], Awaitable[list[IncidentOut]]]
MAX_LIMIT = 50
NOTES_SHOWN = 10


class SimilarIncidentsFinder:
    """Implements `incidents.api.SimilarIncidentsService`."""

    def __init__(self, db: Database, alerts: AlertsInTx, present: Present) -> None:
        self._db = db
        self._alerts = alerts
        self._present = present

    async def similar(self, who: Principal, incident_id: str, limit: int = 10) -> SimilarIncidents:
        require(who, Role.viewer)
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        async with self._db.read() as session:
            incident = await store.by_reference(session, incident_id)
            if incident is None:
                raise NotFound(f"incident {incident_id} not found")
            past = await store.earlier_on_key(session, incident, limit)
            total, resolved, mtta, mttr = await store.earlier_on_key_stats(session, incident)
            entries = await store.entries_of_kinds(
                session, [p.id for p in past], (RESOLVED, "note")
            )
            other_titles = await titles.lookup(self._alerts, session, [incident, *past])
        this, *shown = await self._present([incident, *past])
        titles.show([this, *shown], other_titles)
        resolutions: dict[str, str] = {}
        notes: dict[str, list[TimelineOut]] = {}
        for entry in entries:
            if entry.kind == RESOLVED:
                resolutions[entry.incident_id] = entry.message
            else:
                notes.setdefault(entry.incident_id, []).append(TimelineOut.model_validate(entry))
        return SimilarIncidents(
            incident_id=this.id,
            incident_number=this.number,
            service_id=this.service_id,
            service_name=this.service_name,
            correlation_key=incident.correlation_key,
            total=total,
            resolved=resolved,
            mean_mtta_seconds=mtta,
            mean_mttr_seconds=mttr,
            items=[
                PastIncident(
                    **item.model_dump(),
                    resolution=resolutions.get(item.id),
                    notes=notes.get(item.id, [])[-NOTES_SHOWN:],
                )
                for item in shown
            ],
        )
