"""Queries of the incidents domain. Takes a session; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.vocab import SEVERITY_RANK
from oncallnova.incidents.api import HoldScope
from oncallnova.incidents.logic import ACKNOWLEDGED, OPEN_STATES, TRIGGERED
from oncallnova.incidents.models import Incident, TimelineEntry
from oncallnova.incidents.schemas import IncidentFilter
from oncallnova.services.models import Service


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


# The largest number an INTEGER column holds on PostgreSQL; a bigger one names nothing.
_MAX_NUMBER = 2**31 - 1


async def by_reference(session: AsyncSession, reference: str) -> Incident | None:
    """The incident whose id is `reference`, or whose short number it is when it is all
    digits (ids are UUIDs, never all digits)."""
    if not (reference.isascii() and reference.isdigit()):
        return await get(session, reference)
    number = int(reference)
    if number > _MAX_NUMBER:
        return None
    query = select(Incident).where(Incident.number == number)
    return (await session.execute(query)).scalar_one_or_none()


async def by_ids(session: AsyncSession, ids: list[str], *, lock: bool = False) -> list[Incident]:
    if not ids:
        return []
    query = select(Incident).where(Incident.id.in_(sorted(set(ids)))).order_by(Incident.id)
    if lock:
        query = query.with_for_update()
    return list((await session.execute(query)).scalars())


async def add_incidents(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert new incidents, giving each row its short `number` first."""
    if not rows:
        return
    for row, number in zip(rows, await _next_numbers(session, len(rows)), strict=True):
        row["number"] = number
    await (await session.connection()).execute(insert(Incident.__table__), rows)


async def _next_numbers(session: AsyncSession, count: int) -> list[int]:
    # PostgreSQL: a sequence, so concurrent writers never draw the same number (a rolled
    # back transaction leaves a gap, which is harmless). SQLite has one writer at a time.
    if session.bind.dialect.name == "postgresql":
        result = await session.execute(
            text("SELECT nextval('incident_number_seq') FROM generate_series(1, :n)"),
            {"n": count},
        )
        return [int(n) for n in result.scalars()]
    highest = (await session.execute(select(func.max(Incident.number)))).scalar() or 0
    return list(range(highest + 1, highest + 1 + count))


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


def _conditions(flt: IncidentFilter, *, status: bool = True) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.status and status:
        conditions.append(Incident.status.in_(flt.status))
    if flt.severity:
        conditions.append(Incident.severity.in_(flt.severity))
    if flt.service_id:
        conditions.append(Incident.service_id == flt.service_id)
    if flt.team_id:
        team = select(Service.id).where(Service.team_id == flt.team_id)
        conditions.append(Incident.service_id.in_(team))
    if flt.text:
        conditions.append(func.lower(Incident.title).contains(flt.text.lower(), autoescape=True))
    if flt.since:
        conditions.append(Incident.created_at >= flt.since)
    if flt.until:
        conditions.append(Incident.created_at < flt.until)
    for held, column in (
        (flt.silenced, Incident.silence_id),
        (flt.maintenance, Incident.maintenance_window_id),
    ):
        if held is not None:
            conditions.append(column.is_not(None) if held else column.is_(None))
    return conditions


def _order(flt: IncidentFilter) -> list[Any]:
    newest = [Incident.created_at.desc(), Incident.id.desc()]
    if flt.order == "newest":
        return newest
    state = case({TRIGGERED: 0, ACKNOWLEDGED: 1}, value=Incident.status, else_=2)
    severity = case(SEVERITY_RANK, value=Incident.severity, else_=0)
    return [state, severity.desc(), *newest]


async def page(session: AsyncSession, flt: IncidentFilter) -> tuple[list[Incident], int]:
    conditions = _conditions(flt)
    total = (
        await session.execute(select(func.count()).select_from(Incident).where(*conditions))
    ).scalar_one()
    query = (
        select(Incident)
        .where(*conditions)
        .order_by(*_order(flt))
        .limit(flt.limit)
        .offset(flt.offset)
    )
    return list((await session.execute(query)).scalars()), int(total)


async def status_counts(session: AsyncSession, flt: IncidentFilter) -> dict[str, int]:
    """Incidents per status under every filter but the status one."""
    query = (
        select(Incident.status, func.count())
        .where(*_conditions(flt, status=False))
        .group_by(Incident.status)
    )
    return {status: int(n) for status, n in (await session.execute(query)).all()}


async def change_marker(session: AsyncSession) -> tuple[Any, ...]:
    """A value that differs after any incident opens or changes: the newest timeline
    entries (counted over the last 1,000 ids too, since on PostgreSQL a lower id can
    commit after a higher one) and the open incidents' alert totals."""
    newest = (await session.execute(select(func.max(TimelineEntry.id)))).scalar_one() or 0
    recent = (
        await session.execute(select(func.count()).where(TimelineEntry.id > newest - 1000))
    ).scalar_one()
    open_now = (
        await session.execute(
            select(
                func.count(), func.sum(Incident.alert_count), func.max(Incident.last_alert_at)
            ).where(Incident.status.in_(OPEN_STATES))
        )
    ).one()
    return (newest, recent, *open_now)


async def open_by_service(session: AsyncSession) -> dict[str, int]:
    """Open incidents per service (services with none are left out)."""
    query = (
        select(Incident.service_id, func.count())
        .where(Incident.status.in_(OPEN_STATES))
        .group_by(Incident.service_id)
    )
    return {service_id: int(n) for service_id, n in (await session.execute(query)).all()}


async def count_open(session: AsyncSession, service_id: str) -> int:
    query = select(func.count()).where(
        Incident.service_id == service_id, Incident.status.in_(OPEN_STATES)
    )
    return int((await session.execute(query)).scalar_one())


def _due(now: datetime) -> list[ColumnElement[bool]]:
    """Triggered, due, and held by neither a silence nor a maintenance window."""
    return [
        Incident.status == TRIGGERED,
        Incident.next_escalation_at <= now,
        Incident.silence_id.is_(None),
        Incident.maintenance_window_id.is_(None),
    ]


async def any_due(session: AsyncSession, now: datetime) -> bool:
    query = select(Incident.id).where(*_due(now)).limit(1)
    return (await session.execute(query)).first() is not None


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[Incident]:
    """Triggered incidents whose next escalation is due, locked; rows another engine
    holds are skipped (PostgreSQL), so each due step is taken by exactly one engine."""
    query = (
        select(Incident)
        .where(*_due(now))
        .order_by(Incident.next_escalation_at, Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).scalars())


def _timed_out(ack: dict[str, datetime], stale: dict[str, datetime]) -> ColumnElement[bool]:
    """Acknowledged before its service's ack cutoff, or open with no alert since its
    service's auto-resolve cutoff."""
    return or_(
        false(),
        *[
            and_(
                Incident.service_id == service_id,
                Incident.status == ACKNOWLEDGED,
                Incident.acknowledged_at <= cutoff,
            )
            for service_id, cutoff in sorted(ack.items())
        ],
        *[
            and_(
                Incident.service_id == service_id,
                Incident.status.in_(OPEN_STATES),
                Incident.last_alert_at <= cutoff,
            )
            for service_id, cutoff in sorted(stale.items())
        ],
    )


async def any_timed_out(
    session: AsyncSession, ack: dict[str, datetime], stale: dict[str, datetime]
) -> bool:
    query = select(Incident.id).where(_timed_out(ack, stale)).limit(1)
    return (await session.execute(query)).first() is not None


async def claim_timed_out(
    session: AsyncSession, ack: dict[str, datetime], stale: dict[str, datetime], limit: int
) -> list[Incident]:
    """The incidents past an ack or auto-resolve cutoff, locked; rows another engine
    holds are skipped (PostgreSQL)."""
    if not ack and not stale:
        return []
    query = (
        select(Incident)
        .where(_timed_out(ack, stale))
        .order_by(Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).scalars())


async def open_for_holds(session: AsyncSession, scope: HoldScope) -> list[Incident]:
    """The open incidents `scope` names, locked, in id order."""
    wanted: list[ColumnElement[bool]] = []
    if scope.all_services:
        wanted.append(Incident.service_id.is_not(None))
    elif scope.service_ids:
        wanted.append(Incident.service_id.in_(sorted(set(scope.service_ids))))
    if scope.silence_id:
        wanted.append(Incident.silence_id == scope.silence_id)
    if scope.window_id:
        wanted.append(Incident.maintenance_window_id == scope.window_id)
    query = (
        select(Incident)
        .where(Incident.status.in_(OPEN_STATES), or_(false(), *wanted))
        .order_by(Incident.id)
        .with_for_update()
    )
    return list((await session.execute(query)).scalars())


def timeline_row(
    incident_id: str,
    at: datetime,
    kind: str,
    actor: str,
    message: str,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A timeline entry as a row for `add_timeline`."""
    return {
        "incident_id": incident_id,
        "at": at,
        "kind": kind,
        "actor": actor,
        "message": message,
        "data": data,
    }


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


def _same_key_before(incident: Incident) -> list[ColumnElement[bool]]:
    """Other incidents of the incident's service and correlation key, opened no later."""
    return [
        Incident.service_id == incident.service_id,
        Incident.correlation_key == incident.correlation_key,
        Incident.created_at <= incident.created_at,
        Incident.id != incident.id,
    ]


async def earlier_on_key(session: AsyncSession, incident: Incident, limit: int) -> list[Incident]:
    query = (
        select(Incident)
        .where(*_same_key_before(incident))
        .order_by(Incident.created_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def earlier_on_key_stats(
    session: AsyncSession, incident: Incident
) -> tuple[int, int, float | None, float | None]:
    """How many earlier incidents share the key, how many are resolved, mean MTTA, mean MTTR."""
    query = select(
        func.count(),
        func.count(Incident.resolved_at),
        func.avg(Incident.mtta_seconds),
        func.avg(Incident.mttr_seconds),
    ).where(*_same_key_before(incident))
    total, resolved, mtta, mttr = (await session.execute(query)).one()
    return (
        int(total),
        int(resolved),
        None if mtta is None else float(mtta),
        None if mttr is None else float(mttr),
    )


async def entries_of_kinds(
    session: AsyncSession, incident_ids: list[str], kinds: tuple[str, ...]
) -> list[TimelineEntry]:
    """These incidents' timeline entries of these kinds, oldest first."""
    if not incident_ids:
        return []
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.incident_id.in_(incident_ids), TimelineEntry.kind.in_(kinds))
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return list((await session.execute(query)).scalars())
