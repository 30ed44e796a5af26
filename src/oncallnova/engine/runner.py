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

log = logging.getLogger(__name__)


class Reconciler(Protocol):
    name: str

    async def run_once(self, now: datetime) -> int: ...


class Engine:
    def __init__(self, reconcilers: list[Reconciler], clock: Clock, interval: float = 1.0) -> None:
        self._reconcilers = reconcilers
        self._clock = clock
        self._interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="engine")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run_once(self) -> dict[str, int]:
        done: dict[str, int] = {}
        for reconciler in self._reconcilers:
            try:
                done[reconciler.name] = await reconciler.run_once(self._clock.now())
            except Exception:
                log.exception("reconciler %s failed; it will run again", reconciler.name)
                done[reconciler.name] = 0
        return done

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
