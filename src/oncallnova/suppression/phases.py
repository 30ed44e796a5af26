"""Silences and windows start and end by themselves: the engine acts on each, once.

A pass claims the silences and windows whose start or end has come and that it has not
acted on (`phase`), with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so with any number of
engines each is acted on by one. Starting holds the open incidents it covers; ending
releases them (they page again from level 1 if still triggered). A recurring window
that ends is scheduled for its next occurrence.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.retry import retry_conflicts
from oncallnova.incidents.api import HoldScope, HoldsInTx
from oncallnova.suppression import history, maintenance, silences, store
from oncallnova.suppression.active import QuietCache
from oncallnova.suppression.models import MaintenanceWindow, Silence

ENGINE = "engine"


class Phases:
    def __init__(self, db: Database, clock: Clock, holds: HoldsInTx, cache: QuietCache) -> None:
        self._db = db
        self._clock = clock
        self._holds = holds
        self._cache = cache

    async def has_due(self, now: datetime) -> bool:
        async with self._db.read() as session:
            return await store.any_due(session, now)

    async def run_due(self, now: datetime, limit: int = 50) -> int:
        """Act on every start and end due at `now`; returns how many."""
        total = 0
        while True:

            async def attempt() -> int:
                async with self._db.write() as session:
                    due_silences, due_windows = await store.claim_due(session, now, limit)
                    scopes = [_silence(s, now) for s in due_silences]
                    services = await store.services_of(session, [w.id for w in due_windows])
                    scopes += [_window(w, services[w.id], now) for w in due_windows]
                    await session.flush()
                    await self._recheck(session, now, scopes)
                    return len(due_silences) + len(due_windows)

            try:
                done = await retry_conflicts(attempt)
            finally:
                self._cache.forget()
            total += done
            if done < limit:
                return total

    async def _recheck(self, session: AsyncSession, now: datetime, scopes: list[HoldScope]) -> None:
        if not scopes:
            return
        view = await self._cache.view(session, now, fresh=True)
        for scope in scopes:
            await self._holds.recheck(session, view, now, ENGINE, scope)


def _silence(row: Silence, now: datetime) -> HoldScope:
    if now >= row.ends_at:
        row.phase = store.EXPIRED
        history.record(row, now, ENGINE, "expired")
        return HoldScope(silence_id=row.id)
    row.phase = store.ACTIVE
    history.record(row, now, ENGINE, "started")
    return silences.scope_of(row, now)


def _window(row: MaintenanceWindow, services: list[str], now: datetime) -> HoldScope:
    if now >= row.ends_at:
        history.record(row, now, ENGINE, "ended")
        ended = HoldScope(window_id=row.id)
        if row.recurrence:
            row.starts_at, row.ends_at = maintenance.next_occurrence(row, now)
            row.phase = store.SCHEDULED
            history.record(row, now, ENGINE, "scheduled", changes=["starts_at", "ends_at"])
            if row.starts_at > now:
                return ended
            # The next occurrence is already running (the engine was away): it holds now.
            row.phase = store.ACTIVE
            return HoldScope(service_ids=tuple(services), window_id=row.id)
        row.phase = store.ENDED
        return ended
    row.phase = store.ACTIVE
    history.record(row, now, ENGINE, "started")
    return maintenance.scope_of(row, services, now)


async def running(db: Database, clock: Clock) -> tuple[int, int]:
    """How many silences and maintenance windows are in force now (for /metrics)."""
    async with db.read() as session:
        return await store.count_active(session, clock.now())
