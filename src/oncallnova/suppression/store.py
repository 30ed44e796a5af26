"""Queries of silences and maintenance windows. Takes a session; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.suppression.models import MaintenanceWindow, MaintenanceWindowService, Silence

# What the engine has applied (`phase`).
PENDING, ACTIVE, EXPIRED = "pending", "active", "expired"  # silences
SCHEDULED, ENDED = "scheduled", "ended"  # windows (and ACTIVE)


async def silence(session: AsyncSession, silence_id: str, *, lock: bool = False) -> Silence | None:
    query = select(Silence).where(Silence.id == silence_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def silences(session: AsyncSession, service_id: str | None = None) -> list[Silence]:
    query = select(Silence).order_by(Silence.ends_at.desc(), Silence.id)
    if service_id is not None:
        query = query.where(Silence.service_id == service_id)
    return list((await session.execute(query)).scalars())


async def window(
    session: AsyncSession, window_id: str, *, lock: bool = False
) -> MaintenanceWindow | None:
    query = select(MaintenanceWindow).where(MaintenanceWindow.id == window_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def windows(session: AsyncSession, service_id: str | None = None) -> list[MaintenanceWindow]:
    query = select(MaintenanceWindow).order_by(
        MaintenanceWindow.starts_at.desc(), MaintenanceWindow.id
    )
    if service_id is not None:
        covered = select(MaintenanceWindowService.window_id).where(
            MaintenanceWindowService.service_id == service_id
        )
        query = query.where(MaintenanceWindow.id.in_(covered))
    return list((await session.execute(query)).scalars())


async def services_of(session: AsyncSession, window_ids: list[str]) -> dict[str, list[str]]:
    """The services each window covers, by window id."""
    found: dict[str, list[str]] = {w: [] for w in window_ids}
    if not window_ids:
        return found
    query = (
        select(MaintenanceWindowService.window_id, MaintenanceWindowService.service_id)
        .where(MaintenanceWindowService.window_id.in_(sorted(set(window_ids))))
        .order_by(MaintenanceWindowService.service_id)
    )
    for window_id, service_id in await session.execute(query):
        found[window_id].append(service_id)
    return found


async def set_services(session: AsyncSession, window_id: str, service_ids: list[str]) -> None:
    await session.execute(
        delete(MaintenanceWindowService).where(MaintenanceWindowService.window_id == window_id)
    )
    rows = [{"window_id": window_id, "service_id": s} for s in sorted(set(service_ids))]
    await session.execute(insert(MaintenanceWindowService), rows)


async def live(
    session: AsyncSession, now: datetime
) -> tuple[list[Silence], list[MaintenanceWindow], dict[str, list[str]]]:
    """Silences and windows that have not ended at `now` (pending or running), with each
    window's services."""
    found_silences = list(
        (await session.execute(select(Silence).where(Silence.ends_at > now))).scalars()
    )
    found_windows = list(
        (
            await session.execute(select(MaintenanceWindow).where(MaintenanceWindow.ends_at > now))
        ).scalars()
    )
    return found_silences, found_windows, await services_of(session, [w.id for w in found_windows])


def _silences_due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Silence.phase == PENDING, Silence.starts_at <= now),
        and_(Silence.phase != EXPIRED, Silence.ends_at <= now),
    )


def _windows_due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(MaintenanceWindow.phase == SCHEDULED, MaintenanceWindow.starts_at <= now),
        and_(MaintenanceWindow.phase != ENDED, MaintenanceWindow.ends_at <= now),
    )


async def any_due(session: AsyncSession, now: datetime) -> bool:
    """Has a silence or a window started or ended that the engine has not acted on?"""
    for query in (
        select(Silence.id).where(_silences_due(now)).limit(1),
        select(MaintenanceWindow.id).where(_windows_due(now)).limit(1),
    ):
        if (await session.execute(query)).first() is not None:
            return True
    return False


async def claim_due(
    session: AsyncSession, now: datetime, limit: int
) -> tuple[list[Silence], list[MaintenanceWindow]]:
    """The silences and windows to start or end, locked; rows another engine holds are
    skipped (PostgreSQL), so each start and end is acted on by one engine."""
    due_silences = (
        select(Silence)
        .where(_silences_due(now))
        .order_by(Silence.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    due_windows = (
        select(MaintenanceWindow)
        .where(_windows_due(now))
        .order_by(MaintenanceWindow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (
        list((await session.execute(due_silences)).scalars()),
        list((await session.execute(due_windows)).scalars()),
    )


async def count_active(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """How many silences and windows are running at `now` (for /metrics)."""
    silences_now = select(func.count()).where(Silence.starts_at <= now, Silence.ends_at > now)
    windows_now = select(func.count()).where(
        MaintenanceWindow.starts_at <= now, MaintenanceWindow.ends_at > now
    )
    return (
        int((await session.execute(silences_now)).scalar_one()),
        int((await session.execute(windows_now)).scalar_one()),
    )
