"""Use cases of escalation policies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, InvalidInput, NotFound
from oncallnova.core.ids import new_id
from oncallnova.core.usage import UsageCheck, refuse_if_used
from oncallnova.oncall.api import SchedulesInTx
from oncallnova.oncall.models import EscalationPolicy, Schedule
from oncallnova.oncall.policy_schemas import LevelIn, PolicyIn, PolicyOut, PolicyPatch
from oncallnova.users.api import UsersInTx


class PolicyService:
    """Escalation policies; implements `PoliciesInTx`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        users: UsersInTx,
        schedules: SchedulesInTx,
        *,
        default_delay_seconds: int,
        usage_checks: Sequence[UsageCheck] = (),
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._schedules = schedules
        self._default_delay = default_delay_seconds
        # Where other domains still use a policy (the services that page with it).
        self.usage_checks = list(usage_checks)

    async def snapshots(
        self, session: AsyncSession, policy_ids: list[str]
    ) -> dict[str, dict[str, Any]]:
        if not policy_ids:
            return {}
        rows = await session.execute(
            select(EscalationPolicy).where(EscalationPolicy.id.in_(sorted(set(policy_ids))))
        )
        policies = list(rows.scalars())
        names = await self._target_names(session, policies)
        return {
            p.id: {
                "id": p.id,
                "name": p.name,
                "repeat": p.repeat,
                "levels": [_named_level(level, names) for level in p.levels],
            }
            for p in policies
        }

    async def _target_names(
        self, session: AsyncSession, policies: list[EscalationPolicy]
    ) -> dict[tuple[str, str], str]:
        """Names of the users and schedules the policies target, so an incident's copy
        can say who it could not reach even after they are gone."""
        targets = [t for p in policies for level in p.levels for t in level["targets"]]
        user_ids = sorted({t["id"] for t in targets if t["type"] == "user"})
        schedule_ids = sorted({t["id"] for t in targets if t["type"] == "schedule"})
        names = {
            ("user", k): v.name for k, v in (await self._users.people(session, user_ids)).items()
        }
        if schedule_ids:
            found = await session.execute(
                select(Schedule.id, Schedule.name).where(Schedule.id.in_(schedule_ids))
            )
            names.update({("schedule", row.id): row.name for row in found})
        return names

    async def exists(self, session: AsyncSession, policy_id: str) -> bool:
        return await session.get(EscalationPolicy, policy_id) is not None

    async def create(self, actor: Principal, data: PolicyIn) -> PolicyOut:
        require(actor, Role.admin)
        now = self._clock.now()
        async with self._db.write() as session:
            await self._unique_name(session, data.name, None)
            policy = EscalationPolicy(
                id=new_id(),
                name=data.name,
                description=data.description,
                repeat=data.repeat,
                levels=await self._levels(session, data.levels),
                created_at=now,
                updated_at=now,
            )
            session.add(policy)
            note(session, actor, "policy.create", "escalation_policy", policy.id)
        return PolicyOut.model_validate(policy)

    async def list(self, actor: Principal) -> list[PolicyOut]:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            rows = await session.execute(select(EscalationPolicy).order_by(EscalationPolicy.name))
            return [PolicyOut.model_validate(p) for p in rows.scalars()]

    async def get(self, actor: Principal, policy_id: str) -> PolicyOut:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            return PolicyOut.model_validate(await _require(session, policy_id))

    async def update(self, actor: Principal, policy_id: str, data: PolicyPatch) -> PolicyOut:
        """Changes apply to incidents opened from now on; running ones keep their copy."""
        require(actor, Role.admin)
        changes = data.model_dump(exclude_unset=True)
        async with self._db.write() as session:
            policy = await _require(session, policy_id)
            if changes.get("name"):
                await self._unique_name(session, changes["name"], policy_id)
                policy.name = changes["name"]
            if "description" in changes:
                policy.description = changes["description"]
            if changes.get("repeat") is not None:
                policy.repeat = changes["repeat"]
            if data.levels is not None:
                policy.levels = await self._levels(session, data.levels)
            policy.updated_at = self._clock.now()
            note(session, actor, "policy.update", "escalation_policy", policy_id)
        return PolicyOut.model_validate(policy)

    async def delete(self, actor: Principal, policy_id: str) -> None:
        """Refused while a service uses the policy: its next incident would page nobody."""
        require(actor, Role.admin)
        async with self._db.write() as session:
            policy = await _require(session, policy_id)
            what = f"escalation policy '{policy.name}'"
            await refuse_if_used(session, self.usage_checks, policy_id, what)
            await session.delete(policy)
            note(session, actor, "policy.delete", "escalation_policy", policy_id)

    async def _levels(self, session: AsyncSession, levels: list[LevelIn]) -> list[dict[str, Any]]:
        users = [t.id for level in levels for t in level.targets if t.type == "user"]
        schedules = [t.id for level in levels for t in level.targets if t.type == "schedule"]
        missing_users = await self._users.missing(session, users)
        if missing_users:
            raise InvalidInput(
                f"unknown user id(s): {', '.join(missing_users)}", field="levels.targets"
            )
        missing_schedules = await self._schedules.missing(session, schedules)
        if missing_schedules:
            raise InvalidInput(
                f"unknown schedule id(s): {', '.join(missing_schedules)}", field="levels.targets"
            )
        return [
            {
                "targets": [t.model_dump() for t in level.targets],
                "delay_seconds": self._default_delay
                if level.delay_seconds is None
                else level.delay_seconds,
            }
            for level in levels
        ]

    async def _unique_name(self, session: AsyncSession, name: str, own: str | None) -> None:
        found = (
            await session.execute(select(EscalationPolicy).where(EscalationPolicy.name == name))
        ).scalar_one_or_none()
        if found is not None and found.id != own:
            raise Conflict(f"an escalation policy named '{name}' already exists", field="name")


def _named_level(level: dict[str, Any], names: dict[tuple[str, str], str]) -> dict[str, Any]:
    targets = []
    for target in level["targets"]:
        name = names.get((target["type"], target["id"]))
        targets.append({**target, "name": name} if name else dict(target))
    return {**level, "targets": targets}


async def _require(session: AsyncSession, policy_id: str) -> EscalationPolicy:
    policy = await session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise NotFound(f"escalation policy {policy_id} not found")
    return policy
