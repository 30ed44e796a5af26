"""A short-lived cache of lookups, one lookup per key at a time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lookups(Generic[K, V]):
    """Answers of `lookup(key)` kept for `seconds` (0: not kept; a function: asked each
    time an answer is kept).

    When a kept answer expires under load, the callers that find it expired wait for the
    same lookup instead of each making their own (each would take a pooled connection or
    a round trip the busy path then waits for). A failed lookup is not kept, nor one that
    was running when `forget` was called: it may have read what was just changed.
    """

    def __init__(
        self,
        lookup: Callable[[K], Awaitable[V]],
        seconds: float | Callable[[], float],
        max_size: int = 10_000,
    ) -> None:
        self._lookup = lookup
        self._seconds = seconds if callable(seconds) else lambda: seconds
        self._max_size = max_size
        self._kept: dict[K, tuple[float, V]] = {}
        self._running: dict[K, asyncio.Future[V]] = {}
        self._forgotten = 0  # how many times `forget` was called

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
        forgotten = self._forgotten
        value = await self._lookup(key)
        seconds = self._seconds()
        if seconds > 0 and forgotten == self._forgotten:
            if len(self._kept) >= self._max_size:
                self._kept.clear()
            self._kept[key] = (time.monotonic() + seconds, value)
        return value

    def _done(self, key: K, done: asyncio.Future[V]) -> None:
        self._running.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved here too, in case every waiter was cancelled

    def forget(self, key: K | None = None) -> None:
        """Drop one kept answer, or all of them."""
        self._forgotten += 1
        if key is None:
            self._kept.clear()
        else:
            self._kept.pop(key, None)

    def forget_where(self, matches: Callable[[K], bool]) -> None:
        """Drop the kept answers whose key `matches`."""
        self._forgotten += 1
        for key in [key for key in self._kept if matches(key)]:
            del self._kept[key]
