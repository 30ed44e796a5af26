"""INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignoring_duplicates(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], unique: list[str]
) -> int:
    """Insert rows, skipping those that collide on `unique`; returns how many went in."""
    if not rows:
        return 0
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    inserted = 0
    for row in rows:
        statement = (
            dialect.insert(table).values(**row).on_conflict_do_nothing(index_elements=unique)
        )
        result = await session.execute(statement)
        inserted += int(getattr(result, "rowcount", 0) or 0)
    return inserted
