"""A short-lived cache of lookups, one lookup per key at a time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lookups(Generic[K, V]):
    """Answers of `lookup(key)` kept for `seconds` (0: not kept).

    When a kept answer expires under load, the callers that find it expired wait for the
    same lookup instead of each making their own (each would take a pooled connection or
    a round trip the busy path then waits for). A failed lookup is not kept.
    """

    def __init__(
        self, lookup: Callable[[K], Awaitable[V]], seconds: float, max_size: int = 10_000
    ) -> None:
        self._lookup = lookup
        self._seconds = seconds
        self._max_size = max_size
        self._kept: dict[K, tuple[float, V]] = {}
        self._running: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K) -> V:
        kept = self._kept.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(self._look_up(key))
            self._running[key] = running
            running.add_done_callback(lambda done: self._done(key, done))
        return await asyncio.shield(running)

    async def _look_up(self, key: K) -> V:
        value = await self._lookup(key)
        if self._seconds > 0:
            if len(self._kept) >= self._max_size:
                self._kept.clear()
            self._kept[key] = (time.monotonic() + self._seconds, value)
        return value

    def _done(self, key: K, done: asyncio.Future[V]) -> None:
        self._running.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved here too, in case every waiter was cancelled

    def forget(self, key: K | None = None) -> None:
        """Drop one kept answer, or all of them."""
        if key is None:
            self._kept.clear()
        else:
            self._kept.pop(key, None)
