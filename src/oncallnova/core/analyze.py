"""Fresh PostgreSQL statistics for tables that grow faster than autovacuum looks.

PostgreSQL plans with the statistics of the last ANALYZE, and after five runs of a
prepared statement (asyncpg prepares every one) it may keep one generic plan. Planned
while a table was nearly empty, that plan is a sequential scan, and it stays in use until
the next ANALYZE, which autovacuum runs at most once a minute. In an alert storm on a new
install the open-alert lookup then read the whole table once per batch.

`TableStats` counts the rows this process added and runs ANALYZE, in the background and
outside any transaction of the caller, each time the tables have roughly doubled since the
last one. ANALYZE also drops every cached plan that uses them. A no-op on SQLite, whose
plans do not depend on statistics that are not gathered.

With several replicas writing, each would decide to ANALYZE at about the same moment;
one at a time is enough. Each ANALYZE runs under a session-level advisory lock tried
without waiting: a replica that finds it taken skips its turn (the other's statistics
serve everyone) and looks again after its next batch of rows.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text

from oncallnova.core.db import Database
from oncallnova.core.locks import lock_id

log = logging.getLogger(__name__)


class TableStats:
    def __init__(self, db: Database, tables: list[str], *, minimum_rows: int = 1000) -> None:
        self._db = db
        self._tables = tables
        self._minimum = minimum_rows
        self._known = 0  # rows the first table had at the last ANALYZE (0: not yet read)
        self._added = 0
        self._task: asyncio.Task[None] | None = None

    def added(self, rows: int) -> None:
        """Count rows added to the first table; ANALYZE once it has about doubled."""
        if not self._db.is_postgres or rows <= 0:
            return
        self._added += rows
        if self._task is None and self._added >= max(self._minimum, self._known):
            self._added = 0
            self._task = asyncio.create_task(self._analyze(), name="analyze")

    async def _analyze(self) -> None:
        try:
            await self.run_alone()
        except Exception:  # statistics are an optimisation; autovacuum still runs
            log.warning("ANALYZE %s failed", ", ".join(self._tables), exc_info=True)
        finally:
            self._task = None

    async def run_alone(self) -> bool:
        """ANALYZE now unless another process is doing it; whether it ran here."""
        key = lock_id("analyze", ",".join(self._tables))
        async with self._db.engine.connect() as conn:
            locked = await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            if not locked.scalar():
                await conn.commit()
                return False
            try:
                await conn.execute(text(f"ANALYZE {', '.join(self._tables)}"))
                query = text("SELECT reltuples FROM pg_class WHERE relname = :name")
                rows = (await conn.execute(query, {"name": self._tables[0]})).scalar()
                await conn.commit()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
        self._known = max(int(rows or 0), 0)
        return True

    async def stop(self) -> None:
        task = self._task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
