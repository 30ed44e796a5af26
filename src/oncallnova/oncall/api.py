"""What other domains may ask of the on-call domain, inside their own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class PoliciesApi(Protocol):
    async def snapshots(
        self, session: AsyncSession, policy_ids: list[str]
    ) -> dict[str, dict[str, Any]]:
        """Policy id -> a frozen copy {"id", "name", "repeat", "levels"} to store on an incident."""
        ...

    async def exists(self, session: AsyncSession, policy_id: str) -> bool: ...


class SchedulesApi(Protocol):
    async def on_call(
        self, session: AsyncSession, schedule_ids: list[str], at: datetime
    ) -> dict[str, list[str]]:
        """Schedule id -> user ids on call at `at`; unknown schedules are absent."""
        ...

    async def missing(self, session: AsyncSession, schedule_ids: list[str]) -> list[str]: ...
