"""Transaction-scoped locks on arbitrary keys (PostgreSQL advisory locks).

SQLite needs none: it has one writer at a time. On PostgreSQL the keys are hashed to
64-bit integers and locked in sorted order, so two transactions locking overlapping
sets always queue instead of deadlocking.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def lock_id(namespace: str, key: str) -> int:
    digest = hashlib.blake2b(f"{namespace}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_keys(session: AsyncSession, ids: Iterable[int]) -> None:
    """Take the advisory locks `ids` until the transaction ends (no-op on SQLite)."""
    if session.bind.dialect.name != "postgresql":
        return
    ordered = sorted(set(ids))
    if not ordered:
        return
    await session.execute(
        text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k"),
        {"keys": ordered},
    )
