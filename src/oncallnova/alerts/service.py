"""Use cases of the alerts domain beyond ingestion: reading alerts, resolving by incident."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts import store
from oncallnova.alerts.api import FiringAlert
from oncallnova.alerts.schemas import AlertOut
from oncallnova.core.db import Database


class AlertQueries:
    """Implements `AlertsInTx` for the incidents domain."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def resolve_for_incident(
        self, session: AsyncSession, incident_id: str, now: datetime
    ) -> int:
        return await store.resolve_for_incident(session, incident_id, now)

    async def titles_of(
        self, session: AsyncSession, incident_ids: list[str], limit: int
    ) -> dict[str, tuple[list[str], int]]:
        return await store.titles_of(session, incident_ids, limit)

    async def list_for_incident(self, incident_id: str) -> list[AlertOut]:
        async with self._db.read() as session:
            rows = await store.for_incident(session, incident_id)
        return [AlertOut.model_validate(row) for row in rows]

    async def firing_of(
        self, session: AsyncSession, incident_ids: list[str]
    ) -> dict[str, list[FiringAlert]]:
        found: dict[str, list[FiringAlert]] = {}
        for row in await store.firing_of(session, incident_ids):
            found.setdefault(row.incident_id, []).append(
                FiringAlert(
                    row.id,
                    row.incident_id,
                    dict(row.labels or {}),
                    row.title,
                    row.severity,
                    row.source,
                    row.silence_id,
                )
            )
        return found

    async def tag_silenced(
        self, session: AsyncSession, alert_ids: list[str], silence_id: str
    ) -> None:
        await store.tag_silenced(session, alert_ids, silence_id)
