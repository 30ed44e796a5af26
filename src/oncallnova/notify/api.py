"""What the notify domain offers: the webhook use cases (`WebhooksService`), and what other
domains may ask of notifications (`NotifyInTx`).

The `…InTx` Protocols take an `AsyncSession` and run inside the caller's transaction,
in the same process; they never cross a wire. The `...Service` Protocols are the use
cases: a `Principal` and typed values in, typed values out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal
from oncallnova.notify.schemas import (
    DeliveryOut,
    PageOut,
    RotateIn,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
    WebhookWithSecret,
)


@dataclass(frozen=True)
class Page:
    """Tell `user_id` about `incident_id`: level and round of the escalation, and why."""

    incident_id: str
    user_id: str
    step: int
    level: int
    round: int
    reason: str
    incident: dict[str, Any] = field(default_factory=dict)


class NotifyInTx(Protocol):
    async def enqueue(self, session: AsyncSession, pages: list[Page], now: datetime) -> int:
        """Write pages to the outbox; a page already written for its step is skipped."""
        ...

    async def pages_of(self, session: AsyncSession, incident_id: str) -> list[PageOut]: ...


class WebhooksService(Protocol):
    async def create(self, actor: Principal, data: WebhookIn) -> WebhookWithSecret: ...

    async def list(self, actor: Principal) -> list[WebhookOut]: ...

    async def get(self, actor: Principal, webhook_id: str) -> WebhookOut: ...

    async def update(self, actor: Principal, webhook_id: str, data: WebhookPatch) -> WebhookOut: ...

    async def delete(self, actor: Principal, webhook_id: str) -> None: ...

    async def rotate_secret(
        self, actor: Principal, webhook_id: str, data: RotateIn
    ) -> WebhookWithSecret:
        """A new secret; the old one keeps signing for `grace_seconds`."""
        ...

    async def send_test(self, actor: Principal, webhook_id: str) -> str: ...

    async def deliveries(
        self, actor: Principal, webhook_id: str, limit: int = 100
    ) -> list[DeliveryOut]: ...


class ContactTestsService(Protocol):
    """Send a test to a person's contact method, or one of their shift reminders now;
    the person themself (responder) or an admin. Returns the outbox delivery id."""

    async def test_contact(self, actor: Principal, user_id: str, method_id: str) -> str: ...

    async def test_reminder(self, actor: Principal, user_id: str, reminder_id: str) -> str: ...
