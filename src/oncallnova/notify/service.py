"""The outbox: notifications written in the same transaction as their cause.

Pages come from escalation (`enqueue`). Lifecycle events recorded in a transaction
become, just before it commits (`write_events`), one webhook delivery per subscribed
webhook and, on acknowledge and resolve, an email to everyone who was paged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.bus import Event, recorded
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, NotFound
from oncallnova.core.tracing import Tracing
from oncallnova.notify import paging, store
from oncallnova.notify.api import Page
from oncallnova.notify.contacts import row as _row
from oncallnova.notify.models import Notification, PageRow, Webhook
from oncallnova.notify.schemas import PageOut
from oncallnova.users.api import UsersInTx

NamesLookup = Callable[[list[str]], Awaitable[dict[str, str]]]
EMAIL_EVENTS = {"incident.acknowledged": "acknowledged", "incident.resolved": "resolved"}


class Outbox:
    """Implements `NotifyInTx`; its `write_events` runs before every write commits."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        users: UsersInTx,
        *,
        service_names: NamesLookup | None = None,
        tracing: Tracing | None = None,
        webhook_cache_seconds: float = 2.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self.paging = paging.Paging(db, users)
        self.service_names = service_names
        self._cache_seconds = webhook_cache_seconds
        self._hooks: tuple[float, list[Webhook]] | None = None
        self.tracing = tracing or Tracing()

    def forget_webhooks(self) -> None:
        self._hooks = None

    async def enqueue(self, session: AsyncSession, pages: list[Page], now: datetime) -> int:
        """Start each paged user's notification rules (see `paging`)."""
        if not pages:
            return 0
        people = await self._users.people(session, [p.user_id for p in pages])
        names = await self._names([str(p.incident.get("service_id", "")) for p in pages])
        for page in pages:
            payload = {
                "service_name": names.get(str(page.incident.get("service_id")), ""),
                "incident": page.incident,
                "level": page.level + 1,
                "round": page.round,
                "reason": page.reason,
                "agent": "escalation",
            }
            fields = {
                "incident_id": page.incident_id,
                "user_id": page.user_id,
                "step": page.step,
                "level": page.level,
                "round": page.round,
                "reason": page.reason,
                "payload": payload,
            }
            await self.paging.start(session, people.get(page.user_id), fields, now)
        return len(pages)

    async def pages_of(self, session: AsyncSession, incident_id: str) -> list[PageOut]:
        sent = await store.for_incident(session, incident_id, kind="page")
        out = []
        for page in await paging.pages(session, incident_id):
            mine = [n for n in sent if n.step == page.step and _paged_user(n) == page.user_id]
            out.append(
                PageOut(
                    user_id=page.user_id,
                    kind="page",
                    step=page.step,
                    level=page.level + 1,  # stored from 0; people count levels from 1
                    round=page.round,
                    reason=page.reason,
                    status=_page_status(page, mine),
                    created_at=page.created_at,
                    notified=sorted(
                        {str(n.payload.get("contact_type") or n.channel) for n in mine}
                    ),
                    rules_stopped_at=page.stopped_at,
                )
            )
        return out

    async def write_events(self, session: AsyncSession) -> None:
        """Turn the events recorded in this transaction into outbox rows."""
        events = [e for e in recorded(session) if "incident" in e.data]
        if not events:
            return
        now = self._clock.now()
        rows: list[dict[str, Any]] = []
        hooks = await self._webhooks(session)
        emails = [e for e in events if e.type in EMAIL_EVENTS]
        if not emails and not any(_wants(h, e) for h in hooks for e in events):
            return
        names = await self._names([str(e.data["incident"]["service_id"]) for e in events])
        for event in events:
            service_name = names.get(str(event.data["incident"]["service_id"]), "")
            for hook in hooks:
                if _wants(hook, event):
                    rows.append(
                        _row(
                            now,
                            channel="webhook",
                            destination=hook.id,
                            kind="event",
                            incident_id=event.data["incident"]["id"],
                            event_type=event.type,
                            payload=webhook_body(event, service_name),
                        )
                    )
        for event in emails:
            incident = event.data["incident"]
            await self.paging.stop(session, incident["id"], now)
            rows.extend(await _notices(session, event, EMAIL_EVENTS[event.type], now, names))
        if rows:
            # Tracing: a span only when the transaction writes notifications.
            with self.tracing.tracer.start_as_current_span("notify.enqueue") as span:
                span.set_attribute("notifications.count", len(rows))
                await store.add(session, rows)
            session.info["outbox"] = True

    async def test_delivery(self, webhook_id: str, actor: str) -> str:
        """Queue a `webhook.test` event for one webhook; returns its delivery id.

        A disabled webhook is refused rather than queued: nothing is sent to a disabled
        webhook, so the test would only fail later, out of sight, in the delivery log.
        """
        now = self._clock.now()
        event = Event("webhook.test", now, {"agent": actor})
        body = {
            "event": {
                "id": event.id,
                "event_type": event.type,
                "resource_type": "webhook",
                "occurred_at": _iso(now),
                "agent": _agent(actor),
                "data": {"message": "OnCallNova test event"},
            }
        }
        row = _row(
            now,
            channel="webhook",
            destination=webhook_id,
            kind="test",
            incident_id=None,
            event_type=event.type,
            payload=body,
        )
        async with self._db.write() as session:
            hook = await session.get(Webhook, webhook_id)
            if hook is None:
                raise NotFound(f"webhook {webhook_id} not found")
            if not hook.enabled:
                raise Conflict(
                    "the webhook is disabled and sends nothing: enable it to send a test",
                    field="enabled",
                )
            await store.add(session, [row])
            session.info["outbox"] = True
        return str(row["id"])

    async def _webhooks(self, session: AsyncSession) -> list[Webhook]:
        if self._hooks is None or self._hooks[0] < time.monotonic():
            found = await store.webhooks(session, enabled_only=True)
            for hook in found:
                session.expunge(hook)
            self._hooks = (time.monotonic() + self._cache_seconds, found)
        return self._hooks[1]

    async def _names(self, service_ids: list[str]) -> dict[str, str]:
        wanted = sorted({s for s in service_ids if s})
        if not wanted or self.service_names is None:
            return {}
        return await self.service_names(wanted)


def webhook_body(event: Event, service_name: str) -> dict[str, Any]:
    data = dict(event.data["incident"])
    data["service_name"] = service_name
    extra = {k: v for k, v in event.data.items() if k not in ("incident", "agent")}
    if extra:
        data["details"] = extra
    return {
        "event": {
            "id": event.id,
            "event_type": event.type,
            "resource_type": "incident",
            "occurred_at": _iso(event.occurred_at),
            "agent": _agent(str(event.data.get("agent", ""))),
            "data": data,
        }
    }


def _agent(actor: str) -> dict[str, str]:
    if actor.startswith(("integration:", "pagerduty:", "alertmanager")):
        kind = "integration"
    elif actor in ("escalation engine", "escalation", ""):
        kind = "system"
    else:
        kind = "user"
    return {"type": kind, "name": actor or "system"}


def _wants(hook: Webhook, event: Event) -> bool:
    if event.type not in hook.events:
        return False
    return not hook.service_ids or event.data["incident"]["service_id"] in hook.service_ids


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _paged_user(sent: Notification) -> str:
    """Whom an outbox page row was for (rows from before contact methods had ids went
    to the user's id)."""
    return str(sent.payload.get("user_id") or sent.destination)


def _page_status(page: PageRow, sent: list[Notification]) -> str:
    """sent (one notification reached them), pending (some still going or due),
    failed (every one failed), or stopped (acknowledged before any went out)."""
    statuses = {n.status for n in sent}
    if store.SENT in statuses:
        return "sent"
    if statuses & {store.PENDING, store.SENDING} or page.next_at is not None:
        return "pending"
    if statuses:
        return "failed"
    return "stopped" if page.stopped_at is not None else "failed"


async def _notices(
    session: AsyncSession, event: Event, kind: str, now: datetime, names: dict[str, str]
) -> list[dict[str, Any]]:
    """Tell every contact method a page of the incident reached that it was
    acknowledged or resolved, in that contact method's stream (after the page)."""
    incident = event.data["incident"]
    rows = []
    seen: set[tuple[str, str]] = set()
    for sent in await store.for_incident(session, incident["id"], kind="page"):
        if (sent.channel, sent.destination) in seen:
            continue
        seen.add((sent.channel, sent.destination))
        keep = ("to", "user_id", "user_name", "contact_method_id", "contact_type")
        payload = {k: sent.payload[k] for k in keep if k in sent.payload}
        payload.update(
            {
                "service_name": names.get(str(incident["service_id"]), ""),
                "incident": incident,
                "agent": event.data.get("agent", ""),
            }
        )
        rows.append(
            _row(
                now,
                channel=sent.channel,
                destination=sent.destination,
                kind=kind,
                incident_id=incident["id"],
                event_type=event.type,
                payload=payload,
            )
        )
    return rows
