"""Schedules as stored: rows to the logic model, and the queries the service shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.errors import NotFound
from oncallnova.oncall import logic
from oncallnova.oncall.models import Schedule, ScheduleOverride
from oncallnova.oncall.schedule_schemas import LayerIn


def layer_json(layer: LayerIn) -> dict[str, Any]:
    return layer.model_dump(mode="json")


def layer_logic(data: dict[str, Any]) -> logic.Layer:
    layer = LayerIn.model_validate(data)
    return logic.Layer(
        name=layer.name,
        users=layer.users,
        turn=layer.turn,  # type: ignore[arg-type]
        handoff=layer.handoff,
        restrictions=[r.to_logic() for r in layer.restrictions],
        end=layer.end,
    )


def to_logic(schedule: Schedule, overrides: list[ScheduleOverride]) -> logic.Schedule:
    return logic.Schedule(
        schedule.time_zone,
        [layer_logic(layer) for layer in schedule.layers],
        [logic.Override(o.user_id, o.start, o.end) for o in overrides],
    )


async def overrides_of(
    session: AsyncSession, schedule_ids: list[str]
) -> dict[str, list[ScheduleOverride]]:
    if not schedule_ids:
        return {}
    query = (
        select(ScheduleOverride)
        .where(ScheduleOverride.schedule_id.in_(schedule_ids))
        .order_by(ScheduleOverride.created_at, ScheduleOverride.id)
    )
    out: dict[str, list[ScheduleOverride]] = {}
    for override in (await session.execute(query)).scalars():
        out.setdefault(override.schedule_id, []).append(override)
    return out


async def require_schedule(session: AsyncSession, schedule_id: str) -> Schedule:
    schedule = await session.get(Schedule, schedule_id)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} not found")
    return schedule
