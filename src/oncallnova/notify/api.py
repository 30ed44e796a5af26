"""What other domains may ask of notifications, inside their own transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.notify.schemas import PageOut


@dataclass(frozen=True)
class Page:
    """Tell `user_id` about `incident_id`: level and round of the escalation, and why."""

    incident_id: str
    user_id: str
    step: int
    level: int
    round: int
    reason: str
    incident: dict[str, Any] = field(default_factory=dict)


class NotifyApi(Protocol):
    async def enqueue(self, session: AsyncSession, pages: list[Page], now: datetime) -> int:
        """Write pages to the outbox; a page already written for its step is skipped."""
        ...

    async def pages_of(self, session: AsyncSession, incident_id: str) -> list[PageOut]: ...
