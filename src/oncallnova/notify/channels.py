"""What a delivery channel (email, webhook) receives and answers.

Channels live in transports (`transport/email`, `transport/webhooks`); the dispatcher
only knows this contract. Everything a channel needs is in the delivery's payload,
frozen when the row was written, so a retry sends the same content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    id: str  # stable across retries: receivers drop duplicates by it
    channel: str  # "email" | "webhook" | "slack" | "mattermost" | "teams" | "ntfy"
    destination: str  # webhook id, or contact method id (user id on older email rows)
    kind: str  # "page" | "acknowledged" | "resolved" | "event" | "test" | "reminder"
    event_type: str | None
    incident_id: str | None
    payload: dict[str, Any]
    attempt: int  # 1 for the first try
    trace_parent: str | None = None  # the trace of the change that queued it


@dataclass(frozen=True)
class Outcome:
    ok: bool
    temporary: bool = False  # worth retrying (timeouts, connection errors, 429, 5xx)
    status_code: int | None = None
    error: str | None = None
    # Seconds the receiver asked to wait (Retry-After on a 429 or 503): the next attempt
    # waits at least this long.
    retry_after: float | None = None


class Channel(Protocol):
    name: str

    async def send(self, delivery: Delivery) -> Outcome: ...
