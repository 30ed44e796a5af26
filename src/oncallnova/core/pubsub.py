"""Notices between processes over Redis pub/sub: what changed, what to forget.

Each process has one `RedisChannels`: one subscriber connection, which listens on every
channel this module knows, and one publisher. Listeners are told when the subscription
is made and when it is lost (`live`): while it is not live, messages may be missed, so
a listener falls back on something slower that needs no message (the live stream polls
the database, caches keep answers only briefly), and when it is made again the listener
catches up (it was told nothing meanwhile). A hung Redis is noticed by the PING the
subscriber sends every `ping_seconds`.

Publishing never waits for Redis: a message waits in a bounded queue until Redis takes
it, tried again every `retry_seconds`, so a notice sent during an outage still goes out
when Redis answers. Identical waiting messages are sent once. Past `max_pending` the
queue is replaced by one `ANY` ("anything may have changed") per channel, which every
listener understands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

from oncallnova.core.ratelimit import REDIS_ERRORS, redis_client

log = logging.getLogger(__name__)

ANY = "*"
# Every channel a process may listen on; one subscription covers them all.
CHANGES = "changes"
KEYS = "keys"
CHANNELS = (CHANGES, KEYS)

OnMessage = Callable[[str], None]
OnState = Callable[[bool], None]
Pending = tuple[str, str, str | None]  # channel, message, a counter to bump first


class RedisChannels:
    def __init__(
        self,
        url: str,
        prefix: str,
        *,
        count: Callable[[str], None] | None = None,
        live_gauge: Callable[[bool], None] | None = None,
        retry_seconds: float = 0.5,
        ping_seconds: float = 1.0,
        max_pending: int = 1000,
    ) -> None:
        self.prefix = prefix
        self._count = count
        self._gauge = live_gauge
        self._retry = retry_seconds
        self._ping = ping_seconds
        self._max_pending = max_pending
        self._client = redis_client(url, max(2.0, 2 * ping_seconds))
        # For other parts' short commands on the request path (shared key lookups): its
        # own connections, with the short timeout the breaker expects.
        self.commands = redis_client(url, 0.5)
        self._messages: dict[str, list[OnMessage]] = {}
        self._states: list[OnState] = []
        self._pending: deque[Pending] = deque()
        self._idle = asyncio.Event()  # nothing waiting, nothing being sent
        self._idle.set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._down: dict[str, bool] = {"subscriber": False, "publisher": False}
        self.live = False

    def name(self, channel: str) -> str:
        """The Redis name of a channel (or a key of its own): under the prefix."""
        return f"{self.prefix}:{channel}"

    def listen(self, channel: str, on_message: OnMessage, on_state: OnState | None = None) -> None:
        """`on_message(text)` for each message on `channel`; `on_state(live)` whenever the
        subscription is made (True) or lost (False)."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        self._messages.setdefault(channel, []).append(on_message)
        if on_state is not None:
            self._states.append(on_state)

    def publish(self, channel: str, message: str = ANY, *, bump: str | None = None) -> None:
        """Send `message` on `channel` as soon as Redis takes it. `bump`: the name of a
        counter incremented in the same transaction, before the message goes out."""
        item = (self.name(channel), message, bump)
        if item in self._pending:
            return
        if len(self._pending) >= self._max_pending:
            collapsed = {(name, ANY, bump) for name, _, bump in self._pending}
            self._pending.clear()
            self._pending.extend(sorted(collapsed, key=str))
        if item not in self._pending:
            self._pending.append(item)
        self._idle.clear()
        self._wake.set()

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._subscribe(), name="redis-subscriber"),
                asyncio.create_task(self._publisher(), name="redis-publisher"),
            ]

    async def aclose(self) -> None:
        if self._tasks:
            await self.flush(1.0)  # notices of the last changes, if Redis takes them now
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._client.aclose()
        await self.commands.aclose()

    async def flush(self, within: float = 5.0) -> bool:
        """Waits until every waiting message is sent (for an orderly stop, and tests)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within)
        return self._idle.is_set()

    # --- subscriber -------------------------------------------------------------------

    async def _subscribe(self) -> None:
        names = {self.name(channel): channel for channel in CHANNELS}
        loop = asyncio.get_running_loop()
        while True:
            pubsub = self._client.pubsub()
            try:
                async with asyncio.timeout(2 * self._ping + 1):
                    await pubsub.subscribe(*names)
                self._set_live(True)
                answered = next_ping = loop.time()
                while True:
                    message = await pubsub.get_message(timeout=self._ping / 2)
                    now = loop.time()
                    if message is not None:
                        answered = now
                        if message["type"] == "message":
                            self._dispatch(names.get(_text(message["channel"])), message["data"])
                    if now >= next_ping:
                        await pubsub.ping()
                        next_ping = now + self._ping
                    if now - answered > 3 * self._ping:
                        raise TimeoutError(f"no answer to PING within {3 * self._ping:g} s")
            except Exception as exc:
                # An error redis-py raises outside its own classes (a RuntimeError from a
                # connection reset under it, say) still loses the subscription: it is
                # counted and retried like a lost connection, never left to end the task
                # with `live` still true. Its traceback is logged once per outage.
                if not isinstance(exc, REDIS_ERRORS) and not self._down["subscriber"]:
                    log.exception("Redis pub/sub subscriber: unexpected error")
                self._failed("subscriber", exc)
                self._set_live(False)
            finally:
                # Only drops the connection (nothing is sent), so it cannot hang.
                with contextlib.suppress(*REDIS_ERRORS, RuntimeError):
                    await pubsub.aclose()
            await asyncio.sleep(self._retry)

    def _dispatch(self, channel: str | None, data: bytes | str) -> None:
        text = _text(data)
        for handler in self._messages.get(channel or "", []):
            try:
                handler(text)
            except Exception:
                log.exception("a handler of Redis channel %s failed", channel)

    def _set_live(self, live: bool) -> None:
        if live == self.live:
            return
        self.live = live
        if live:
            self._recovered("subscriber")
        if self._gauge is not None:
            self._gauge(live)
        for on_state in self._states:
            try:
                on_state(live)
            except Exception:
                log.exception("a Redis subscription listener failed")

    # --- publisher --------------------------------------------------------------------

    async def _publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                # Taken off the queue while it is sent: a notice of a change committed
                # meanwhile must go out after it, not be merged into it.
                item = self._pending.popleft()
                channel, message, bump = item
                try:
                    async with self._client.pipeline(transaction=True) as pipe:
                        if bump is not None:
                            pipe.incr(bump)
                        pipe.publish(channel, message)
                        await pipe.execute()
                except Exception as exc:
                    if not isinstance(exc, REDIS_ERRORS) and not self._down["publisher"]:
                        log.exception("Redis pub/sub publisher: unexpected error")
                    if item not in self._pending:
                        self._pending.appendleft(item)
                    self._failed("publisher", exc)
                    await asyncio.sleep(self._retry)
                    continue
                self._recovered("publisher")
            self._idle.set()

    # --- outages: logged once when they start and once when they end ------------------

    def _failed(self, part: str, exc: BaseException) -> None:
        if self._count is not None:
            self._count("failed")
        if not self._down[part]:
            self._down[part] = True
            log.warning(
                "Redis pub/sub %s: Redis unavailable (%s: %s); trying again every %g s "
                "(meanwhile live updates poll the database and key lookups are kept only "
                "briefly)",
                part,
                type(exc).__name__,
                exc,
                self._retry,
            )

    def _recovered(self, part: str) -> None:
        if self._down[part]:
            self._down[part] = False
            log.warning("Redis pub/sub %s: Redis answers again", part)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
