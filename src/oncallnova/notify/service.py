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
from oncallnova.core.ids import new_id
from oncallnova.core.tracing import Tracing, current_traceparent
from oncallnova.notify import store
from oncallnova.notify.api import Page
from oncallnova.notify.models import Webhook
from oncallnova.notify.schemas import PageOut
from oncallnova.users.api import UsersApi

NamesLookup = Callable[[list[str]], Awaitable[dict[str, str]]]
EMAIL_EVENTS = {"incident.acknowledged": "acknowledged", "incident.resolved": "resolved"}


class Outbox:
    """Implements `NotifyApi`; its `write_events` runs before every write commits."""

    def __init__(
        self, db: Database, clock: Clock, users: UsersApi, *, webhook_cache_seconds: float = 2.0
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self.service_names: NamesLookup | None = None
        self._cache_seconds = webhook_cache_seconds
        self._hooks: tuple[float, list[Webhook]] | None = None
        self.tracing = Tracing()  # the Runtime replaces it with its own

    def forget_webhooks(self) -> None:
        self._hooks = None

    async def enqueue(self, session: AsyncSession, pages: list[Page], now: datetime) -> int:
        if not pages:
            return 0
        people = await self._users.people(session, [p.user_id for p in pages])
        names = await self._names([str(p.incident.get("service_id", "")) for p in pages])
        rows = []
        for page in pages:
            person = people.get(page.user_id)
            payload = {
                "to": (person.page_address or "") if person else "",
                "user_name": person.name if person else page.user_id,
                "service_name": names.get(str(page.incident.get("service_id")), ""),
                "incident": page.incident,
                "level": page.level + 1,
                "round": page.round,
                "reason": page.reason,
                "agent": "escalation",
            }
            rows.append(
                _row(
                    now,
                    channel="email",
                    destination=page.user_id,
                    kind="page",
                    incident_id=page.incident_id,
                    payload=payload,
                    step=page.step,
                    level=page.level,
                    round=page.round,
                    reason=page.reason,
                    dedup_key=f"page:{page.incident_id}:{page.step}:{page.user_id}",
                )
            )
        added = await store.add(session, traced(rows))
        session.info["outbox"] = True
        return added

    async def pages_of(self, session: AsyncSession, incident_id: str) -> list[PageOut]:
        return [
            PageOut(
                user_id=n.destination,
                kind=n.kind,
                step=n.step,
                level=n.level + 1,  # stored from 0; people count levels from 1
                round=n.round,
                reason=n.reason,
                status=n.status,
                created_at=n.created_at,
            )
            for n in await store.for_incident(session, incident_id, kind="page")
        ]

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
            paged = await store.paged_users(session, incident["id"])
            people = await self._users.people(session, paged)
            for user_id in paged:
                person = people.get(user_id)
                rows.append(
                    _row(
                        now,
                        channel="email",
                        destination=user_id,
                        kind=EMAIL_EVENTS[event.type],
                        incident_id=incident["id"],
                        event_type=event.type,
                        payload={
                            "to": (person.page_address or "") if person else "",
                            "user_name": person.name if person else user_id,
                            "service_name": names.get(str(incident["service_id"]), ""),
                            "incident": incident,
                            "agent": event.data.get("agent", ""),
                        },
                    )
                )
        if rows:
            # Tracing: a span only when the transaction writes notifications.
            with self.tracing.tracer.start_as_current_span("notify.enqueue") as span:
                span.set_attribute("notifications.count", len(rows))
                traced(rows)
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


def traced(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows, each with the trace being recorded now (if any), so their delivery by
    an engine (later, maybe in another process) joins it."""
    parent = current_traceparent()
    for row in rows:
        row["trace_parent"] = parent
    return rows


def _row(now: datetime, **fields: Any) -> dict[str, Any]:
    row = {
        "id": new_id(),
        "status": store.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "last_error": None,
        "created_at": now,
        "sent_at": None,
        "step": 0,
        "level": 0,
        "round": 0,
        "reason": "",
        "dedup_key": None,
        "event_type": None,
        "trace_parent": None,
    }
    row.update(fields)
    return row
