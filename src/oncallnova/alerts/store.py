"""Queries of the alerts domain. Takes a session; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.models import Alert

FIRING = "firing"
RESOLVED = "resolved"
_table = Alert.__table__


async def firing_by_fingerprint(
    session: AsyncSession, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """(service, fingerprint) -> (alert id, incident id) of open alerts, locked for update.

    One `service_id = ? AND fingerprint IN (...)` query per service: SQLite answers a
    row-value IN by scanning the whole index, this form by one index lookup per key.
    """
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for service_id, fingerprints in group_by_first(keys).items():
        for row in await session.execute(firing_query(service_id, fingerprints)):
            found[(service_id, row.fingerprint)] = (row.id, row.incident_id)
    return found


def firing_query(service_id: str, fingerprints: list[str]) -> Select[tuple[str, str, str]]:
    """The open alerts among `fingerprints` of one service, locked for update.

    The status is written into the SQL, not bound, so that a plan made without the
    values (a PostgreSQL generic plan) can still use the partial index of open alerts.
    """
    return (
        select(Alert.id, Alert.incident_id, Alert.fingerprint)
        .where(
            Alert.service_id == service_id,
            Alert.fingerprint.in_(fingerprints),
            Alert.status == literal_column(f"'{FIRING}'"),
        )
        .order_by(Alert.id)
        .with_for_update()
    )


def group_by_first(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for first, second in pairs:
        grouped.setdefault(first, []).append(second)
    return grouped


async def add(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        # Core executemany: the ORM's bulk path costs more per row and gives nothing here.
        await (await session.connection()).execute(insert(_table), rows)


async def add_repeats(session: AsyncSession, repeats: dict[str, int], now: datetime) -> None:
    """Count repeats of open alerts: alert id -> how many more times it was seen."""
    if not repeats:
        return
    statement = (
        update(_table)
        .where(_table.c.id == bindparam("alert_id"))
        .values(count=_table.c.count + bindparam("extra"), last_seen=bindparam("seen"))
    )
    params = [{"alert_id": i, "extra": n, "seen": now} for i, n in sorted(repeats.items())]
    conn = await session.connection()
    await conn.execute(statement, params)


async def resolve(session: AsyncSession, alert_ids: list[str], now: datetime) -> None:
    if alert_ids:
        await session.execute(
            update(Alert)
            .where(Alert.id.in_(alert_ids), Alert.status == FIRING)
            .values(status=RESOLVED, resolved_at=now, last_seen=now)
            .execution_options(synchronize_session=False)
        )


async def resolve_for_incident(session: AsyncSession, incident_id: str, now: datetime) -> int:
    result = await session.execute(
        update(Alert)
        .where(Alert.incident_id == incident_id, Alert.status == FIRING)
        .values(status=RESOLVED, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def incidents_still_firing(session: AsyncSession, incident_ids: list[str]) -> set[str]:
    if not incident_ids:
        return set()
    query = (
        select(Alert.incident_id)
        .where(Alert.incident_id.in_(incident_ids), Alert.status == FIRING)
        .distinct()
    )
    return set((await session.execute(query)).scalars())


async def for_incident(session: AsyncSession, incident_id: str, limit: int = 500) -> list[Alert]:
    query = (
        select(Alert)
        .where(Alert.incident_id == incident_id)
        .order_by(Alert.first_seen, Alert.id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())
