"""What the on-call domain offers: the use cases the transports call (`OncallService`),
and what other domains may ask of it inside their own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal
from oncallnova.oncall.schedule_schemas import OnCallNow, ServiceOnCall


class OncallService(Protocol):
    async def now(self, actor: Principal) -> OnCallNow:
        """Who is on call now, per schedule and per service."""
        ...

    async def services_on_call(self, actor: Principal) -> list[ServiceOnCall]:
        """Per service, whom its escalation policy's first level pages now."""
        ...


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
