"""Queries behind requests about one alert and integration heartbeats. Takes a session;
never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.api import Beat, RequestOutcome
from oncallnova.alerts.models import Alert, AlertRequest, IntegrationBeat
from oncallnova.core.upsert import insert_ignoring_duplicates


async def add_outcome(session: AsyncSession, outcome: RequestOutcome) -> None:
    session.add(
        AlertRequest(
            id=outcome.request_id,
            service_id=outcome.service_id,
            action=outcome.action,
            success=outcome.success,
            status=outcome.status[:500],
            alert_id=outcome.alert_id,
            alias=outcome.alias,
            processed_at=outcome.processed_at,
        )
    )


async def outcome(session: AsyncSession, service_id: str, request_id: str) -> RequestOutcome | None:
    row = await session.get(AlertRequest, request_id)
    if row is None or row.service_id != service_id:
        return None
    return RequestOutcome(
        request_id=row.id,
        service_id=row.service_id,
        action=row.action,  # type: ignore[arg-type]
        success=row.success,
        status=row.status,
        processed_at=row.processed_at,
        alert_id=row.alert_id,
        alias=row.alias,
    )


async def prune_outcomes(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(AlertRequest).where(AlertRequest.processed_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


# An alert as a request finds it: (id, fingerprint, incident id, status, dedup key).
Found = tuple[str, str, str, str, str | None]
_FOUND = (Alert.id, Alert.fingerprint, Alert.incident_id, Alert.status, Alert.dedup_key)


async def alert_by_id(session: AsyncSession, service_id: str, alert_id: str) -> list[Found]:
    query = select(*_FOUND).where(Alert.id == alert_id, Alert.service_id == service_id)
    return [tuple(row) for row in await session.execute(query)]  # type: ignore[misc]


async def alert_by_fingerprint(
    session: AsyncSession, service_id: str, fingerprint: str
) -> list[Found]:
    """The open alert with this fingerprint, else the latest one."""
    query = (
        select(*_FOUND)
        .where(Alert.service_id == service_id, Alert.fingerprint == fingerprint)
        .order_by((Alert.status == "firing").desc(), Alert.first_seen.desc(), Alert.id.desc())
        .limit(1)
    )
    return [tuple(row) for row in await session.execute(query)]  # type: ignore[misc]


async def alerts_of_incident(session: AsyncSession, incident_id: str) -> list[Found]:
    query = select(*_FOUND).where(Alert.incident_id == incident_id).order_by(Alert.id)
    return [tuple(row) for row in await session.execute(query)]  # type: ignore[misc]


async def beat(session: AsyncSession, service_id: str, kind: str, now: datetime) -> Beat:
    row: dict[str, Any] = {
        "service_id": service_id,
        "kind": kind,
        "first_beat_at": now,
        "last_beat_at": now,
        "beats": 1,
    }
    table = IntegrationBeat.__table__
    if not await insert_ignoring_duplicates(session, table, [row], ["service_id", "kind"]):  # type: ignore[arg-type]
        await session.execute(
            update(IntegrationBeat)
            .where(IntegrationBeat.service_id == service_id, IntegrationBeat.kind == kind)
            .values(last_beat_at=now, beats=IntegrationBeat.beats + 1)
        )
    found = await last_beat(session, service_id, kind)
    assert found is not None
    return found


async def last_beat(session: AsyncSession, service_id: str, kind: str) -> Beat | None:
    row = await session.get(IntegrationBeat, (service_id, kind), populate_existing=True)
    if row is None:
        return None
    return Beat(row.service_id, row.kind, row.first_beat_at, row.last_beat_at, row.beats)
