"""Queries of the alerts domain. Takes a session; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Select, bindparam, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.models import Alert

FIRING = "firing"
RESOLVED = "resolved"
_table = Alert.__table__


# A JSON parameter that binds None as SQL NULL (not JSON null), so COALESCE keeps the
# stored value when a repeat leaves the field out.
_JSON_OR_NULL = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


async def firing_by_fingerprint(
    session: AsyncSession, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(service, fingerprint) -> (alert id, incident id, severity) of open alerts, locked
    for update.

    One `service_id = ? AND fingerprint IN (...)` query per service: SQLite answers a
    row-value IN by scanning the whole index, this form by one index lookup per key.
    """
    found: dict[tuple[str, str], tuple[str, str, str]] = {}
    for service_id, fingerprints in group_by_first(keys).items():
        for row in await session.execute(firing_query(service_id, fingerprints)):
            found[(service_id, row.fingerprint)] = (row.id, row.incident_id, row.severity)
    return found


def firing_query(service_id: str, fingerprints: list[str]) -> Select[tuple[str, str, str, str]]:
    """The open alerts among `fingerprints` of one service, locked for update.

    The status is written into the SQL, not bound, so that a plan made without the
    values (a PostgreSQL generic plan) can still use the partial index of open alerts.
    """
    return (
        select(Alert.id, Alert.incident_id, Alert.fingerprint, Alert.severity)
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


async def add_repeats(session: AsyncSession, repeats: list[dict[str, Any]]) -> None:
    """Count repeats of open alerts, in one statement: each row holds `alert_id`, `extra`
    (how many more times it was seen), `seen`, the `severity` to keep (the caller never
    lowers it) and the latest `description`, `labels` and `details` (None keeps the
    stored value)."""
    if not repeats:
        return
    statement = (
        update(_table)
        .where(_table.c.id == bindparam("alert_id"))
        .values(
            count=_table.c.count + bindparam("extra"),
            last_seen=bindparam("seen"),
            severity=bindparam("new_severity"),
            description=func.coalesce(bindparam("new_description"), _table.c.description),
            labels=func.coalesce(
                bindparam("new_labels", type_=_JSON_OR_NULL), _table.c.labels, type_=JSON
            ),
            details=func.coalesce(
                bindparam("new_details", type_=_JSON_OR_NULL), _table.c.details, type_=JSON
            ),
        )
    )
    conn = await session.connection()
    await conn.execute(statement, sorted(repeats, key=lambda r: r["alert_id"]))


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


async def firing_of(session: AsyncSession, incident_ids: list[str]) -> list[Alert]:
    if not incident_ids:
        return []
    query = (
        select(Alert)
        .where(Alert.incident_id.in_(sorted(set(incident_ids))), Alert.status == FIRING)
        .order_by(Alert.first_seen, Alert.id)
    )
    return list((await session.execute(query)).scalars())


async def tag_silenced(session: AsyncSession, alert_ids: list[str], silence_id: str) -> None:
    if alert_ids:
        await session.execute(
            update(Alert)
            .where(Alert.id.in_(sorted(alert_ids)), Alert.silence_id.is_(None))
            .values(silence_id=silence_id)
            .execution_options(synchronize_session=False)
        )


async def for_incident(session: AsyncSession, incident_id: str, limit: int = 500) -> list[Alert]:
    query = (
        select(Alert)
        .where(Alert.incident_id == incident_id)
        .order_by(Alert.first_seen, Alert.id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def titles_of(
    session: AsyncSession, incident_ids: list[str], limit: int
) -> dict[str, tuple[list[str], int]]:
    """Per incident: its alerts' distinct titles, newest first (at most `limit`), and how
    many distinct titles there are. One statement for a whole page of incidents."""
    if not incident_ids:
        return {}
    grouped = (
        select(
            Alert.incident_id.label("incident_id"),
            Alert.title.label("title"),
            func.max(Alert.first_seen).label("latest"),
        )
        .where(Alert.incident_id.in_(sorted(set(incident_ids))))
        .group_by(Alert.incident_id, Alert.title)
        .subquery()
    )
    newest = (grouped.c.latest.desc(), grouped.c.title)
    ranked = select(
        grouped.c.incident_id,
        grouped.c.title,
        func.row_number().over(partition_by=grouped.c.incident_id, order_by=newest).label("n"),
        func.count().over(partition_by=grouped.c.incident_id).label("total"),
    ).subquery()
    query = (
        select(ranked.c.incident_id, ranked.c.title, ranked.c.total)
        .where(ranked.c.n <= limit)
        .order_by(ranked.c.incident_id, ranked.c.n)
    )
    found: dict[str, tuple[list[str], int]] = {}
    for incident_id, title, total in await session.execute(query):
        found.setdefault(incident_id, ([], int(total)))[0].append(title)
    return found
