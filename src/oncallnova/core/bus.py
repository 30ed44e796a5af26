"""An in-process event bus: domains publish what happened after it is committed."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[["Event"], Awaitable[None]]


@dataclass(frozen=True)
class Event:
    type: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


def record(session: Any, event: Event) -> None:
    """Note an event in a write transaction: the outbox writes its notifications before
    the commit, and it is published on the bus after it."""
    session.info.setdefault("events", []).append(event)


def recorded(session: Any) -> list[Event]:
    events: list[Event] = session.info.get("events", [])
    return events


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def publish(self, events: list[Event]) -> None:
        """Hand events to subscribers without making the publisher wait for them."""
        for handler in self._handlers:
            for item in events:
                task = asyncio.ensure_future(self._deliver(handler, item))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, handler: Handler, item: Event) -> None:
        try:
            await handler(item)
        except Exception:
            log.exception("event handler failed for %s", item.type)
