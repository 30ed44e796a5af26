"""Where schedules and escalation policies name a user, and where policies name a
schedule (to refuse deleting what a page still depends on).

Layers and levels are JSON, so they are scanned here; there are tens of them, not
millions, and a person or a schedule is deleted rarely.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.oncall.models import EscalationPolicy, Schedule


async def user_uses(session: AsyncSession, user_id: str) -> list[str]:
    """Every schedule layer and escalation level that names `user_id`, in words."""
    uses: list[str] = []
    schedules = await session.execute(select(Schedule).order_by(Schedule.name))
    for schedule in schedules.scalars():
        for number, layer in enumerate(schedule.layers, start=1):
            if user_id in (layer.get("users") or []):
                name = layer.get("name") or f"layer {number}"
                uses.append(f"schedule '{schedule.name}' (layer '{name}')")
    return uses + await _policy_uses(session, "user", user_id)


async def schedule_uses(session: AsyncSession, schedule_id: str) -> list[str]:
    """Every escalation level that pages `schedule_id`, in words."""
    return await _policy_uses(session, "schedule", schedule_id)


async def _policy_uses(session: AsyncSession, target_type: str, target_id: str) -> list[str]:
    uses: list[str] = []
    policies = await session.execute(select(EscalationPolicy).order_by(EscalationPolicy.name))
    for policy in policies.scalars():
        levels = [
            str(number)
            for number, level in enumerate(policy.levels, start=1)
            if any(t["type"] == target_type and t["id"] == target_id for t in level["targets"])
        ]
        if levels:
            word = "level" if len(levels) == 1 else "levels"
            uses.append(f"escalation policy '{policy.name}' ({word} {', '.join(levels)})")
    return uses
