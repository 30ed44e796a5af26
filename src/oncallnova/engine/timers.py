"""Reconcilers of work that falls due at a stored instant: heartbeat expiry, the starts
and ends of silences and maintenance windows, acknowledgement timeouts and auto-resolve.

Each wraps a domain object with a cheap `has_due(now)` read (the idle poll, not traced)
and `run_due(now)`, which claims what is due in a transaction with
`FOR UPDATE SKIP LOCKED`, so any number of engines act on each item once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from oncallnova.core.tracing import Tracing


class Timer:
    def __init__(
        self,
        name: str,
        has_due: Callable[[datetime], Awaitable[bool]],
        run_due: Callable[[datetime], Awaitable[int]],
        tracing: Tracing | None = None,
    ) -> None:
        self.name = name
        self._has_due = has_due
        self._run_due = run_due
        self._tracing = tracing or Tracing()

    async def run_once(self, now: datetime) -> int:
        if not await self._has_due(now):
            return 0
        with self._tracing.tracer.start_as_current_span(f"engine.{self.name}") as span:
            done = await self._run_due(now)
            span.set_attribute("items.count", done)
        return done
