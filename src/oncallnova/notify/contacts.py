"""Outbox rows to a person's contact method, and where such a row is delivered.

Each contact method is a stream of its own (the outbox keeps order per destination and
incident), so a chat webhook that is down and being retried never holds back the
person's email or push. The row carries the contact method's id; the HTTP channel looks
the method up when it sends (`http_target`), so a corrected URL applies to retries and
a deleted method stops them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from oncallnova.core.db import Database
from oncallnova.core.ids import new_id
from oncallnova.notify import store
from oncallnova.users.api import Contact, Person, UsersInTx

HTTP_CHANNELS = ("slack", "mattermost", "teams", "ntfy")


@dataclass(frozen=True)
class HttpTarget:
    """Where and how the HTTP channel posts one delivery."""

    url: str
    format: str = "oncallnova"  # or slack | mattermost | teams | ntfy
    headers: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)  # signing keys (oncallnova only)
    topic: str = ""  # ntfy


def channel_of(contact: Contact) -> str:
    return "email" if contact.type == "email" else contact.type


def row(now: datetime, **fields: Any) -> dict[str, Any]:
    """A new outbox row: pending, due now, unless `fields` say otherwise."""
    values = {
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
        "incident_id": None,
        "trace_parent": None,  # stamped by `store.add`
    }
    values.update(fields)
    return values


def to_contact(
    now: datetime,
    person: Person,
    contact: Contact,
    kind: str,
    content: dict[str, Any],
    **fields: Any,
) -> dict[str, Any]:
    """An outbox row sending `content` to one of `person`'s contact methods."""
    payload = {
        **content,
        "user_id": person.id,
        "user_name": person.name,
        "contact_method_id": contact.id,
        "contact_type": contact.type,
    }
    if contact.type == "email":
        payload["to"] = contact.address
    return row(
        now,
        channel=channel_of(contact),
        destination=contact.id,
        kind=kind,
        payload=payload,
        **fields,
    )


class ContactDirectory:
    """Finds the contact method a personal HTTP delivery goes to, when it is sent."""

    def __init__(self, db: Database, users: UsersInTx) -> None:
        self._db = db
        self._users = users

    async def target(self, user_id: str, contact_id: str) -> HttpTarget | None:
        async with self._db.read() as session:
            person = (await self._users.people(session, [user_id])).get(user_id)
        contact = person.contact(contact_id) if person else None
        if contact is None or contact.type not in HTTP_CHANNELS:
            return None
        if contact.type == "ntfy":
            headers = {"Authorization": f"Bearer {contact.token}"} if contact.token else {}
            return HttpTarget(contact.server, "ntfy", headers, topic=contact.topic)
        return HttpTarget(contact.url, contact.type)
