"""What the on-call domain offers: the use cases the transports call (`OncallService`,
`PoliciesService`, `SchedulesService`), and what other domains may ask of it
(`PoliciesInTx`, `SchedulesInTx`).

The `…InTx` Protocols take an `AsyncSession` and run inside the caller's transaction,
in the same process; they never cross a wire. The `...Service` Protocols are the use
cases: a `Principal` and typed values in, typed values out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal
from oncallnova.oncall.policy_schemas import PolicyIn, PolicyOut, PolicyPatch
from oncallnova.oncall.schedule_schemas import (
    OnCallAt,
    OnCallEntry,
    OnCallNow,
    OverrideIn,
    OverrideOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    ServiceOnCall,
    ShiftList,
)


class OncallService(Protocol):
    async def now(self, actor: Principal, at: datetime | None = None) -> OnCallNow:
        """Who is on call now (or at `at`), per schedule and per service."""
        ...

    async def services_on_call(
        self, actor: Principal, at: datetime | None = None
    ) -> list[ServiceOnCall]:
        """Per service, whom its escalation policy's first level pages now (or at `at`)."""
        ...


class PoliciesInTx(Protocol):
    async def snapshots(
        self, session: AsyncSession, policy_ids: list[str]
    ) -> dict[str, dict[str, Any]]:
        """Policy id -> a frozen copy {"id", "name", "repeat", "levels"} to store on an incident."""
        ...

    async def exists(self, session: AsyncSession, policy_id: str) -> bool: ...


@dataclass(frozen=True)
class OnCallShift:
    """A user's final shift in one schedule (overrides applied), start to end."""

    schedule_id: str
    schedule_name: str
    user_id: str
    start: datetime
    end: datetime


class SchedulesInTx(Protocol):
    async def on_call(
        self, session: AsyncSession, schedule_ids: list[str], at: datetime
    ) -> dict[str, list[str]]:
        """Schedule id -> user ids on call at `at`; unknown schedules are absent."""
        ...

    async def missing(self, session: AsyncSession, schedule_ids: list[str]) -> list[str]: ...

    async def shifts_of(
        self, session: AsyncSession, user_ids: list[str], start: datetime, end: datetime
    ) -> list[OnCallShift]:
        """Every schedule's shifts of `user_ids` that overlap [start, end), each whole
        (from its real start to its real end, not clipped to the range), by start."""
        ...


class PoliciesService(Protocol):
    async def create(self, actor: Principal, data: PolicyIn) -> PolicyOut: ...

    async def list(self, actor: Principal) -> list[PolicyOut]: ...

    async def get(self, actor: Principal, policy_id: str) -> PolicyOut: ...

    async def update(self, actor: Principal, policy_id: str, data: PolicyPatch) -> PolicyOut:
        """Changes apply to incidents opened from now on; running ones keep their copy."""
        ...

    async def delete(self, actor: Principal, policy_id: str) -> None:
        """Refused while a service uses the policy: its next incident would page nobody."""
        ...


class SchedulesService(Protocol):
    async def create(self, actor: Principal, data: ScheduleIn) -> ScheduleOut: ...

    async def list(self, actor: Principal) -> list[ScheduleOut]: ...

    async def get(self, actor: Principal, schedule_id: str) -> ScheduleOut: ...

    async def update(
        self, actor: Principal, schedule_id: str, data: SchedulePatch
    ) -> ScheduleOut: ...

    async def delete(self, actor: Principal, schedule_id: str) -> None: ...

    async def add_override(
        self, actor: Principal, schedule_id: str, data: OverrideIn
    ) -> OverrideOut: ...

    async def delete_override(
        self, actor: Principal, schedule_id: str, override_id: str
    ) -> None: ...

    async def oncall_at(self, actor: Principal, schedule_id: str, at: datetime) -> OnCallAt: ...

    async def shifts(
        self, actor: Principal, schedule_id: str, start: datetime, end: datetime
    ) -> ShiftList: ...

    async def now_per_schedule(
        self, actor: Principal, at: datetime | None = None
    ) -> list[OnCallEntry]:
        """Per schedule, who is on call now (or at `at`)."""
        ...

    async def names(self, user_ids: list[str]) -> dict[str, str]: ...

    async def rotate_ical_token(self, actor: Principal, schedule_id: str) -> ScheduleOut: ...

    async def schedule_feed(self, token: str) -> bytes | None: ...

    async def user_feed(self, user_id: str, user_name: str) -> bytes: ...
