"""Send a test to one of a person's contact methods, or one of their shift reminders
now, through the outbox like any notification (retries and all)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal, Role, require, require_self_or
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import NotFound
from oncallnova.notify import contacts, reminders, store
from oncallnova.oncall.api import OnCallShift, SchedulesInTx
from oncallnova.users.api import Contact, Person, UsersInTx

LOOK_AHEAD = timedelta(days=60)


class PersonalTests:
    """Implements `ContactTestsService`."""

    def __init__(
        self, db: Database, clock: Clock, users: UsersInTx, schedules: SchedulesInTx
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._schedules = schedules

    async def test_contact(self, actor: Principal, user_id: str, method_id: str) -> str:
        _may_test(actor, user_id)
        now = self._clock.now()
        async with self._db.write() as session:
            person, contact = await self._contact(session, user_id, method_id)
            assert contact is not None  # a method id was given: found, or NotFound raised
            row = contacts.to_contact(
                now,
                person,
                contact,
                "test",
                {
                    "title": "Test notification from OnCallNova",
                    "text": (
                        f"This is a test of your contact method '{contact.label}', sent by "
                        f"{actor.label}. If you can read it, pages reach you here."
                    ),
                    "link": f"/people/{user_id}",
                },
            )
            await store.add(session, [row])
            session.info["outbox"] = True
        return str(row["id"])

    async def test_reminder(self, actor: Principal, user_id: str, reminder_id: str) -> str:
        """The reminder as it would read for the person's next shift (or a sample one
        starting in its lead time when they have none in the next 60 days), sent now."""
        _may_test(actor, user_id)
        now = self._clock.now()
        async with self._db.write() as session:
            person, _ = await self._contact(session, user_id, None)
            reminder = next((r for r in person.reminders if r.id == reminder_id), None)
            if reminder is None:
                raise NotFound(f"shift reminder {reminder_id} not found")
            _, contact = await self._contact(session, user_id, reminder.contact_method_id)
            assert contact is not None
            upcoming = await self._schedules.shifts_of(session, [user_id], now, now + LOOK_AHEAD)
            later = [s for s in upcoming if s.start > now]
            shift = later[0] if later else _sample(now, reminder.minutes_before)
            content = reminders.message(person, reminder.event, shift, reminder.minutes_before)
            content["title"] = "Test: " + content["title"]
            row = contacts.to_contact(now, person, contact, "reminder", content)
            await store.add(session, [row])
            session.info["outbox"] = True
        return str(row["id"])

    async def _contact(
        self, session: AsyncSession, user_id: str, method_id: str | None
    ) -> tuple[Person, Contact | None]:
        person = (await self._users.people(session, [user_id])).get(user_id)
        if person is None:
            raise NotFound(f"user {user_id} not found")
        contact = person.contact(method_id) if method_id else None
        if method_id and contact is None:
            raise NotFound(f"contact method {method_id} not found")
        return person, contact


def _sample(now: datetime, minutes_before: int) -> OnCallShift:
    start = now + timedelta(minutes=minutes_before)
    return OnCallShift("", "your schedule (sample)", "", start, start + timedelta(hours=8))


def _may_test(actor: Principal, user_id: str) -> None:
    require(actor, Role.responder)
    require_self_or(actor, user_id, Role.admin)
