"""Queries of ingest batches: the idempotency keys of batches handed over with one.

A batch id is recorded, with the batch's results, at the end of the transaction that
stores its alerts, in one statement for all the batches of the transaction. A batch id
that is already there (a second delivery of the same batch: a retry after a lost reply,
here or on another replica) is not recorded again, and the writer then rolls back and
stores the transaction again with that batch as a replay, answered with the first
results. A delivery racing the first waits on PostgreSQL's unique index until the first
transaction ends. Recording last, optimistically, costs one statement per transaction
where claiming first and saving the results later cost two, and replays are rare.
Takes a session; never commits.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.models import IngestBatch
from oncallnova.core.tables import UtcDateTime

KEEP = timedelta(days=1)
_table = IngestBatch.__table__

# The batches come as one JSON object {batch id: results}: one parameter whatever their
# number, so the statement is compiled once and cached. SQLite needs a WHERE clause
# before ON CONFLICT in an INSERT ... SELECT.
_RECORD = {
    "postgresql": "INSERT INTO ingest_batches (id, results, created_at)"
    " SELECT key, value, :now FROM jsonb_each(CAST(:batches AS jsonb))"
    " ON CONFLICT (id) DO NOTHING RETURNING id",
    "sqlite": "INSERT INTO ingest_batches (id, results, created_at)"
    " SELECT key, value, :now FROM json_each(:batches) WHERE true"
    " ON CONFLICT (id) DO NOTHING RETURNING id",
}
_STATEMENTS = {
    dialect: text(sql).bindparams(
        bindparam("now", type_=UtcDateTime()), bindparam("batches", type_=String())
    )
    for dialect, sql in _RECORD.items()
}


async def record(
    session: AsyncSession, results: dict[str, list[dict[str, Any]]], now: datetime
) -> set[str]:
    """Record these batch ids with their results; returns those that were recorded, so
    the others had been before."""
    if not results:
        return set()
    statement = _STATEMENTS[session.bind.dialect.name]
    rows = await session.execute(
        statement, {"now": now, "batches": json.dumps(results, separators=(",", ":"))}
    )
    return set(rows.scalars())


async def results_of(
    session: AsyncSession, batch_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    rows = await session.execute(
        select(_table.c.id, _table.c.results).where(_table.c.id.in_(batch_ids))
    )
    return {row.id: row.results or [] for row in rows}


async def forget_before(session: AsyncSession, cutoff: datetime) -> None:
    await session.execute(delete(_table).where(_table.c.created_at < cutoff))
