"""Queries of the incidents domain. Takes a session; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.incidents.logic import OPEN_STATES, TRIGGERED
from oncallnova.incidents.models import Incident, TimelineEntry
from oncallnova.incidents.schemas import IncidentFilter


async def open_by_keys(session: AsyncSession, keys: list[tuple[str, str]]) -> list[Incident]:
    """Open incidents on these (service, correlation key) pairs, locked for update.

    One query per service, so SQLite uses the (service, key, status) index.
    """
    grouped: dict[str, list[str]] = {}
    for service_id, key in keys:
        grouped.setdefault(service_id, []).append(key)
    found: list[Incident] = []
    for service_id, correlation_keys in sorted(grouped.items()):
        query = (
            select(Incident)
            .where(
                Incident.service_id == service_id,
                Incident.correlation_key.in_(correlation_keys),
                Incident.status.in_(OPEN_STATES),
            )
            .order_by(Incident.id)
            .with_for_update()
        )
        found.extend((await session.execute(query)).scalars())
    return found


async def get(session: AsyncSession, incident_id: str, *, lock: bool = False) -> Incident | None:
    query = select(Incident).where(Incident.id == incident_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def by_ids(session: AsyncSession, ids: list[str], *, lock: bool = False) -> list[Incident]:
    if not ids:
        return []
    query = select(Incident).where(Incident.id.in_(sorted(set(ids)))).order_by(Incident.id)
    if lock:
        query = query.with_for_update()
    return list((await session.execute(query)).scalars())


async def add_incidents(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await (await session.connection()).execute(insert(Incident.__table__), rows)


async def add_timeline(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await (await session.connection()).execute(insert(TimelineEntry.__table__), rows)


async def update_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk update by primary key: each row holds `id` and the columns to set."""
    if rows:
        await session.execute(update(Incident), rows)


async def timeline(session: AsyncSession, incident_id: str) -> list[TimelineEntry]:
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return list((await session.execute(query)).scalars())


async def page(session: AsyncSession, flt: IncidentFilter) -> tuple[list[Incident], int]:
    conditions = []
    if flt.status:
        conditions.append(Incident.status.in_(flt.status))
    if flt.severity:
        conditions.append(Incident.severity.in_(flt.severity))
    if flt.service_id:
        conditions.append(Incident.service_id == flt.service_id)
    if flt.since:
        conditions.append(Incident.created_at >= flt.since)
    if flt.until:
        conditions.append(Incident.created_at < flt.until)
    total = (
        await session.execute(select(func.count()).select_from(Incident).where(*conditions))
    ).scalar_one()
    query = (
        select(Incident)
        .where(*conditions)
        .order_by(Incident.created_at.desc(), Incident.id.desc())
        .limit(flt.limit)
        .offset(flt.offset)
    )
    return list((await session.execute(query)).scalars()), int(total)


async def count_open(session: AsyncSession, service_id: str) -> int:
    query = select(func.count()).where(
        Incident.service_id == service_id, Incident.status.in_(OPEN_STATES)
    )
    return int((await session.execute(query)).scalar_one())


async def any_due(session: AsyncSession, now: datetime) -> bool:
    query = (
        select(Incident.id)
        .where(Incident.status == TRIGGERED, Incident.next_escalation_at <= now)
        .limit(1)
    )
    return (await session.execute(query)).first() is not None


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[Incident]:
    """Triggered incidents whose next escalation is due, locked; rows another engine
    holds are skipped (PostgreSQL), so each due step is taken by exactly one engine."""
    query = (
        select(Incident)
        .where(Incident.status == TRIGGERED, Incident.next_escalation_at <= now)
        .order_by(Incident.next_escalation_at, Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).scalars())


def timeline_entry(
    incident_id: str,
    at: datetime,
    kind: str,
    actor: str,
    message: str,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        incident_id=incident_id, at=at, kind=kind, actor=actor, message=message, data=data
    )
