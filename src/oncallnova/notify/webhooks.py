"""Use cases of outgoing webhooks: CRUD, secret rotation, the delivery log."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import NotFound
from oncallnova.core.ids import new_id
from oncallnova.notify import ssrf, store
from oncallnova.notify.contacts import HttpTarget
from oncallnova.notify.models import Webhook
from oncallnova.notify.schemas import (
    DeliveryOut,
    RotateIn,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
    WebhookWithSecret,
)
from oncallnova.notify.service import Outbox


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookService:
    def __init__(
        self, db: Database, clock: Clock, outbox: Outbox, *, allow_private: bool = True
    ) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._allow_private = allow_private  # WEBHOOK_ALLOW_PRIVATE, see notify/ssrf.py

    async def _check_target(self, url: str) -> None:
        """Refuse a URL whose host is unreachable by policy; the channel checks again at send."""
        await ssrf.vet(url, "url", allow_private=self._allow_private)

    async def create(self, actor: Principal, data: WebhookIn) -> WebhookWithSecret:
        require(actor, Role.admin)
        await self._check_target(data.url)
        now = self._clock.now()
        hook = Webhook(
            id=new_id(),
            name=data.name,
            url=data.url,
            events=list(data.events),
            service_ids=data.service_ids,
            headers=data.headers,
            enabled=data.enabled,
            format=data.format,
            secret=new_webhook_secret(),
            previous_secret=None,
            previous_secret_until=None,
            created_at=now,
            updated_at=now,
        )
        async with self._db.write() as session:
            session.add(hook)
            note(session, actor, "webhook.create", "webhook", hook.id, {"url": data.url})
        self._outbox.forget_webhooks()
        return WebhookWithSecret(**WebhookOut.model_validate(hook).model_dump(), secret=hook.secret)

    async def list(self, actor: Principal) -> list[WebhookOut]:
        require(actor, Role.admin)
        async with self._db.read() as session:
            return [WebhookOut.model_validate(h) for h in await store.webhooks(session)]

    async def get(self, actor: Principal, webhook_id: str) -> WebhookOut:
        require(actor, Role.admin)
        async with self._db.read() as session:
            return WebhookOut.model_validate(await _require(session, webhook_id))

    async def update(self, actor: Principal, webhook_id: str, data: WebhookPatch) -> WebhookOut:
        require(actor, Role.admin)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if "url" in changes:
            await self._check_target(changes["url"])
        async with self._db.write() as session:
            hook = await _require(session, webhook_id)
            for field, value in changes.items():
                setattr(hook, field, list(value) if field == "events" else value)
            hook.updated_at = self._clock.now()
            note(
                session, actor, "webhook.update", "webhook", webhook_id, {"fields": sorted(changes)}
            )
        self._outbox.forget_webhooks()
        return WebhookOut.model_validate(hook)

    async def delete(self, actor: Principal, webhook_id: str) -> None:
        require(actor, Role.admin)
        async with self._db.write() as session:
            await session.delete(await _require(session, webhook_id))
            note(session, actor, "webhook.delete", "webhook", webhook_id)
        self._outbox.forget_webhooks()

    async def rotate_secret(
        self, actor: Principal, webhook_id: str, data: RotateIn
    ) -> WebhookWithSecret:
        """A new secret; the old one keeps signing for `grace_seconds`."""
        require(actor, Role.admin)
        now = self._clock.now()
        async with self._db.write() as session:
            hook = await _require(session, webhook_id)
            hook.previous_secret = hook.secret
            hook.previous_secret_until = now + timedelta(seconds=data.grace_seconds)
            hook.secret = new_webhook_secret()
            hook.updated_at = now
            note(session, actor, "webhook.rotate_secret", "webhook", webhook_id)
        return WebhookWithSecret(**WebhookOut.model_validate(hook).model_dump(), secret=hook.secret)

    async def send_test(self, actor: Principal, webhook_id: str) -> str:
        await self.get(actor, webhook_id)
        return await self._outbox.test_delivery(webhook_id, actor.label)

    async def deliveries(
        self, actor: Principal, webhook_id: str, limit: int = 100
    ) -> list[DeliveryOut]:
        require(actor, Role.admin)
        async with self._db.read() as session:
            await _require(session, webhook_id)
            rows = await store.attempts_of_webhook(session, webhook_id, limit)
        return [
            DeliveryOut(
                delivery_id=n.id,
                event_type=n.event_type,
                incident_id=n.incident_id,
                attempt=a.attempt,
                started_at=a.started_at,
                duration_ms=a.duration_ms,
                outcome=a.outcome,
                status_code=a.status_code,
                error=a.error,  # type: ignore[arg-type]
                delivery_status=n.status,
            )
            for a, n in rows
        ]

    async def target(self, webhook_id: str) -> HttpTarget | None:
        """Where and how to deliver now; None when the webhook is gone or disabled."""
        async with self._db.read() as session:
            hook = await session.get(Webhook, webhook_id)
        if hook is None or not hook.enabled:
            return None
        keys = [hook.secret]
        if (
            hook.previous_secret
            and hook.previous_secret_until
            and (hook.previous_secret_until > self._clock.now())
        ):
            keys.append(hook.previous_secret)
        return HttpTarget(
            url=hook.url, format=hook.format, headers=dict(hook.headers), secrets=keys
        )


async def _require(session: AsyncSession, webhook_id: str) -> Webhook:
    hook = await session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return hook
