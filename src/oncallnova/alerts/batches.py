"""Queries of ingest batches: the idempotency keys of batches handed over with one.

A batch id is claimed in the transaction that stores its alerts, before them: a second
delivery of the same batch (a retry after a lost reply, here or on another replica)
finds it claimed, waits on PostgreSQL until the first transaction ends, and then stores
nothing and returns the first results. Takes a session; never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.models import IngestBatch

KEEP = timedelta(days=1)
_table = IngestBatch.__table__


async def claim(session: AsyncSession, batch_ids: list[str], now: datetime) -> set[str]:
    """Record these batch ids; returns those that were not recorded before."""
    if not batch_ids:
        return set()
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(_table)
        .values([{"id": batch_id, "results": None, "created_at": now} for batch_id in batch_ids])
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(_table.c.id)
    )
    return set((await session.execute(statement)).scalars())


async def save_results(session: AsyncSession, results: dict[str, list[dict[str, Any]]]) -> None:
    """The results of the batches claimed in this transaction, in one statement."""
    if not results:
        return
    statement = (
        update(_table)
        .where(_table.c.id == bindparam("batch_id"))
        .values(results=bindparam("batch_results"))
    )
    rows = [{"batch_id": key, "batch_results": value} for key, value in results.items()]
    await session.execute(statement, rows)


async def results_of(
    session: AsyncSession, batch_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    rows = await session.execute(
        select(_table.c.id, _table.c.results).where(_table.c.id.in_(batch_ids))
    )
    return {row.id: row.results or [] for row in rows}


async def forget_before(session: AsyncSession, cutoff: datetime) -> None:
    await session.execute(delete(_table).where(_table.c.created_at < cutoff))
