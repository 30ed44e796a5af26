"""ANALYZE runs on one replica at a time: a replica that finds another doing it skips."""

from __future__ import annotations

import asyncpg

from oncallnova.core.analyze import TableStats
from oncallnova.core.db import Database
from oncallnova.core.locks import lock_id
from oncallnova.settings import Settings


async def test_a_replica_skips_analyze_while_another_runs_it(pg_database: str) -> None:
    db = Database(Settings(DATABASE_URL=pg_database).resolved_database_url())
    stats = TableStats(db, ["alerts", "incidents"])
    other = await asyncpg.connect(pg_database)  # another replica, in the middle of one
    key = lock_id("analyze", "alerts,incidents")
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", key)
        assert await stats.run_alone() is False
        await other.execute("SELECT pg_advisory_unlock($1)", key)
        assert await stats.run_alone() is True
        # It let go of the lock: the other replica's next turn is not refused.
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", key)
    finally:
        await other.close()
        await db.dispose()
