"""What other domains may ask of the alerts domain, inside their own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.schemas import AlertOut


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
