"""Change notices fanned out to listeners: the web UI's live stream, and the incidents
role's WatchChanges stream to web replicas.

In one process the event bus announces changes as they are committed (`on_event`). The
changes other processes make arrive over Redis pub/sub when `REDIS_URL` is set: every
process that commits incident changes publishes a notice, and every feed hears it, with
no database polling. Without Redis, and whenever the subscription is not live (Redis
down or restarting), a poll of the incidents' change marker (once a second, only while
someone listens) catches them instead; each time the subscription is made or lost the
listeners are told to refetch, since a change may have slipped between the two.
Listeners are told that something changed, never what: they refetch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from oncallnova.core.bus import Event
from oncallnova.core.pubsub import CHANGES, RedisChannels

log = logging.getLogger(__name__)
Marker = Callable[[], Awaitable[object]]


class ChangeFeed:
    """Fans change notices out to every open stream of this process."""

    def __init__(
        self, marker: Marker, interval: float = 1.0, pubsub: RedisChannels | None = None
    ) -> None:
        self._marker = marker
        self._interval = interval
        self._pubsub = pubsub
        if pubsub is not None:
            pubsub.listen(CHANGES, lambda _: self.notify("change"), self._on_subscription)
        self._queues: set[asyncio.Queue[str | None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def notify(self, kind: str) -> None:
        for queue in self._queues:
            if queue.empty():  # one pending notice is enough: the page refetches anyway
                queue.put_nowait(kind)

    async def on_event(self, event: Event) -> None:
        if event.type.startswith("incident."):
            self.notify(event.type)

    def _on_subscription(self, live: bool) -> None:
        del live  # made or lost: either way a change may have been missed
        self.notify("change")

    @property
    def polling(self) -> bool:
        """Whether changes of other processes are found by polling the marker now."""
        return self._pubsub is None or not self._pubsub.live

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[str | None]]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=1)
        if self.closed:
            queue.put_nowait(None)
        self._loop = asyncio.get_running_loop()
        self._queues.add(queue)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    async def _poll(self) -> None:
        last: object = None
        failing = False
        while self._queues and not self.closed:
            if not self.polling:
                last = None  # notices arrive over Redis; a fallback starts afresh
                await asyncio.sleep(self._interval)
                continue
            try:
                marker = await self._marker()
            except Exception as exc:  # the database may be restarting: keep trying
                if not failing:
                    log.warning("live updates: cannot read the change marker: %s", exc)
                failing = True
            else:
                failing = False
                if last is not None and marker != last:
                    self.notify("change")
                last = marker
            await asyncio.sleep(self._interval)

    def close(self) -> None:
        """Ends every stream (on shutdown: browsers reconnect to another process)."""
        self.closed = True
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    def close_threadsafe(self) -> None:
        """`close` from a signal handler."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close)
        else:
            self.closed = True
