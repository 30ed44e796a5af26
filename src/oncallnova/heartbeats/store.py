"""Queries of heartbeat monitors. Takes a session; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.heartbeats.models import HeartbeatMonitor

INACTIVE, UP, EXPIRED = "inactive", "up", "expired"


async def get(
    session: AsyncSession, monitor_id: str, *, lock: bool = False
) -> HeartbeatMonitor | None:
    query = select(HeartbeatMonitor).where(HeartbeatMonitor.id == monitor_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def by_token(session: AsyncSession, token: str) -> HeartbeatMonitor | None:
    """The monitor of a beat URL, locked (two beats at once queue on it)."""
    query = select(HeartbeatMonitor).where(HeartbeatMonitor.token == token).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def by_name(session: AsyncSession, service_id: str, name: str) -> HeartbeatMonitor | None:
    query = select(HeartbeatMonitor).where(
        HeartbeatMonitor.service_id == service_id, HeartbeatMonitor.name == name
    )
    return (await session.execute(query)).scalar_one_or_none()


async def listing(session: AsyncSession, service_id: str | None = None) -> list[HeartbeatMonitor]:
    query = select(HeartbeatMonitor).order_by(HeartbeatMonitor.name, HeartbeatMonitor.id)
    if service_id is not None:
        query = query.where(HeartbeatMonitor.service_id == service_id)
    return list((await session.execute(query)).scalars())


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [HeartbeatMonitor.state == UP, HeartbeatMonitor.expires_at <= now]


async def any_due(session: AsyncSession, now: datetime) -> bool:
    query = select(HeartbeatMonitor.id).where(*_due(now)).limit(1)
    return (await session.execute(query)).first() is not None


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[HeartbeatMonitor]:
    """Running monitors past their deadline, locked; rows another engine holds are
    skipped (PostgreSQL), so each expiry is acted on by exactly one engine."""
    query = (
        select(HeartbeatMonitor)
        .where(*_due(now))
        .order_by(HeartbeatMonitor.expires_at, HeartbeatMonitor.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).scalars())


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    query = select(HeartbeatMonitor.state, func.count()).group_by(HeartbeatMonitor.state)
    return {state: int(n) for state, n in await session.execute(query)}
