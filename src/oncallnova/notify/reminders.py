"""Shift reminders: tell people before their on-call shift starts and when it ends.

Nothing is scheduled ahead: each pass reads who asked for reminders, computes their
shifts around now from the schedules with their overrides, and writes an outbox row for
every reminder whose time has come. The row's dedup key names the reminder, the shift
and the event, so it is written once per shift whatever the number of engines or
passes, and a pass after a restart writes what a stopped engine did not. A start
reminder is sent from its time until the shift starts; an end reminder up to
`END_GRACE` after the end (later it is news to nobody). Times in the message are in
the person's own time zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from oncallnova.core.db import Database
from oncallnova.core.retry import retry_conflicts
from oncallnova.notify import contacts, store
from oncallnova.oncall.api import OnCallShift, SchedulesInTx
from oncallnova.users.api import Person, Reminder, UsersInTx

END_GRACE = timedelta(hours=1)
# How often a pass looks (clock time): reminders are computed to the minute.
SCAN_EVERY = timedelta(seconds=30)


def zone_of(person: Person) -> ZoneInfo:
    try:
        return ZoneInfo(person.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local(moment: datetime, zone: ZoneInfo) -> str:
    """`Mon 30 Mar 09:00 CEST`: what the person reads on their own clock."""
    return moment.astimezone(zone).strftime("%a %d %b %H:%M %Z")


def lead_text(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = ((days, "day"), (hours, "hour"), (mins, "minute"))
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in units if n]
    return " ".join(parts) or "now"


def message(person: Person, event: str, shift: OnCallShift, lead_minutes: int) -> dict[str, Any]:
    """Title and text of a reminder, in the person's time zone."""
    zone = zone_of(person)
    start, end = local(shift.start, zone), local(shift.end, zone)
    if event == "start":
        title = f"On call in {lead_text(lead_minutes)}: {shift.schedule_name}"
        text = f"Your on-call shift on {shift.schedule_name} starts {start} and ends {end}."
    else:
        title = f"Your on-call shift ended: {shift.schedule_name}"
        text = f"Your on-call shift on {shift.schedule_name} ended {end} (it started {start})."
    return {
        "title": title,
        "text": text,
        "event": event,
        "schedule_id": shift.schedule_id,
        "schedule_name": shift.schedule_name,
        "start": shift.start.isoformat(),
        "end": shift.end.isoformat(),
        "time_zone": zone.key,
        "link": "/oncall",
    }


def due(reminder: Reminder, shift: OnCallShift, now: datetime) -> bool:
    """Is `reminder` to be sent about `shift` at `now`?"""
    if reminder.event == "start":
        moment = shift.start
        opens = moment - timedelta(minutes=reminder.minutes_before)
        closes = moment
    else:
        moment = opens = shift.end
        closes = shift.end + END_GRACE
    if reminder.created_at is not None and moment <= reminder.created_at:
        return False  # about a moment from before the reminder was asked for
    return opens <= now < closes


class ShiftReminders:
    def __init__(self, db: Database, users: UsersInTx, schedules: SchedulesInTx) -> None:
        self._db = db
        self._users = users
        self._schedules = schedules
        # Only spares work: what is due is decided from the rows each time.
        self._last_scan: datetime | None = None

    async def send_due(self, now: datetime) -> int:
        """Write the reminders due at `now`; returns how many."""
        if self._last_scan is not None and self._last_scan <= now < self._last_scan + SCAN_EVERY:
            return 0
        self._last_scan = now
        async with self._db.read() as session:
            people = await self._users.with_reminders(session)
        if not people:
            return 0
        lead = max(r.minutes_before for p in people for r in p.reminders)

        async with self._db.read() as session:
            shifts = await self._schedules.shifts_of(
                session, [p.id for p in people], now - END_GRACE, now + timedelta(minutes=lead + 1)
            )
            rows = self.rows(people, shifts, now)
            if rows:
                written = await store.existing_keys(session, [r["dedup_key"] for r in rows])
                rows = [r for r in rows if r["dedup_key"] not in written]
        if not rows:
            return 0  # the usual pass: nothing due, or all of it written already

        async def attempt() -> int:
            async with self._db.write() as session:
                added = await store.add(session, rows)
                if added:
                    session.info["outbox"] = True
                return added

        return await retry_conflicts(attempt)

    @staticmethod
    def rows(
        people: list[Person], shifts: list[OnCallShift], now: datetime
    ) -> list[dict[str, Any]]:
        rows = []
        for person in people:
            for shift in (s for s in shifts if s.user_id == person.id):
                for reminder in person.reminders:
                    contact = person.contact(reminder.contact_method_id)
                    if contact is None or not due(reminder, shift, now):
                        continue
                    moment = shift.start if reminder.event == "start" else shift.end
                    lead = -int((now - shift.start).total_seconds() // 60)  # rounded up
                    rows.append(
                        contacts.to_contact(
                            now,
                            person,
                            contact,
                            "reminder",
                            message(person, reminder.event, shift, max(lead, 0)),
                            dedup_key=(
                                f"reminder:{reminder.id}:{shift.schedule_id}:"
                                f"{reminder.event}:{moment.isoformat()}"
                            ),
                        )
                    )
        return rows
