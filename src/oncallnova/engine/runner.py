"""Runs the background reconcilers: each pass at least every `interval` seconds, and
at once when woken (a new incident, say).

Every reconciler works from rows in the database (`run_once(now)`), claiming what is due
in a transaction; so any number of engines may run, and one that dies loses nothing: the
next pass of any engine picks the work up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Protocol

from oncallnova.core.clock import Clock
from oncallnova.core.db import Outage, unavailable

log = logging.getLogger(__name__)


class Reconciler(Protocol):
    name: str

    async def run_once(self, now: datetime) -> int: ...


class Engine:
    """Each reconciler runs in its own loop, so a slow pass of one (escalating many
    incidents, say) does not hold back another (delivering what is already queued)."""

    def __init__(
        self,
        reconcilers: list[Reconciler],
        clock: Clock,
        interval: float = 1.0,
        outage: Outage | None = None,
    ) -> None:
        self._reconcilers = reconcilers
        self._outage = outage or Outage()
        self._clock = clock
        self._interval = interval
        self._wakes = [asyncio.Event() for _ in reconcilers]
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self, *names: str) -> None:
        """Run the named reconcilers (all without names) now rather than at their next tick."""
        for reconciler, event in zip(self._reconcilers, self._wakes, strict=True):
            if not names or reconciler.name in names:
                event.set()
                # A reconciler in the middle of a long pass (the dispatcher waiting on a
                # slow receiver) takes the new work in that pass if it can.
                forward = getattr(reconciler, "wake", None)
                if callable(forward):
                    forward()

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._loop(reconciler, wake), name=f"engine-{reconciler.name}")
                for reconciler, wake in zip(self._reconcilers, self._wakes, strict=True)
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def run_once(self) -> dict[str, int]:
        """One pass of every reconciler, in order (tests drive the engine with this)."""
        return {r.name: await self._pass(r) for r in self._reconcilers}

    async def _pass(self, reconciler: Reconciler) -> int:
        try:
            return await reconciler.run_once(self._clock.now())
        except Exception as exc:
            if unavailable(exc):
                self._outage.failed(exc)  # logged once per outage, not once a pass
            else:
                log.exception("reconciler %s failed; it will run again", reconciler.name)
            return 0

    async def _loop(self, reconciler: Reconciler, wake: asyncio.Event) -> None:
        while True:
            wake.clear()
            await self._pass(reconciler)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self._interval)
