"""Use cases of the alerts domain beyond ingestion: reading alerts, resolving by incident."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts import store
from oncallnova.alerts.schemas import AlertOut
from oncallnova.core.db import Database


class AlertQueries:
    """Implements `AlertsApi` for the incidents domain."""

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
