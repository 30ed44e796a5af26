"""iCalendar (RFC 5545) export of shifts, for calendar apps that subscribe to a feed.

Times are written in UTC (`DTSTART:20260329T070000Z`), so the feed needs no VTIMEZONE
and every calendar app shows them in its user's own zone. The caller passes DTSTAMP
(the feed's generation instant) because this package reads no clock.

UIDs are stable for a given (user, source, start), so a refreshed feed updates events
instead of duplicating them. Callers pass whole shifts (`logic.shifts_overlapping`):
a shift clipped by a moving range start would get another UID on every refresh. A
feed mixing schedules passes each shift's schedule as its UID scope, since two
schedules may have layers of the same name. User ids and sources are also written as
X- properties so the feed can be read back without guessing from display names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from icalendar import Calendar, Event, vText

from oncallnova.oncall.model import Shift, require_aware

USER_PROPERTY = "X-ONCALLNOVA-USER-ID"
SOURCE_PROPERTY = "X-ONCALLNOVA-SOURCE"
_ESCAPED = re.compile(r"\\([\\;,nN])")


def shift_uid(shift: Shift, uid_prefix: str, scope: str = "") -> str:
    """A UID that stays the same while the shift's scope, user, source and start do."""
    start = require_aware(shift.start, "shift start")
    key = f"{shift.user_id}\0{shift.source}\0{start.isoformat()}".encode()
    if scope:
        key = scope.encode() + b"\0" + key
    digest = hashlib.sha256(key).hexdigest()[:16]
    return f"{uid_prefix}-{start:%Y%m%dT%H%M%SZ}-{digest}"


def shifts_to_ical(
    name: str,
    shifts: Sequence[Shift],
    *,
    prodid: str,
    uid_prefix: str,
    dtstamp: datetime,
    display_names: Mapping[str, str] | None = None,
    uid_scopes: Sequence[str] | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT per shift; SUMMARY names the user.

    Times are truncated to whole seconds, as iCalendar has no fractions of a second.

    `display_names` maps user ids to the names people read; an id missing from it is
    shown as itself. Text is escaped as RFC 5545 TEXT, so names and ids with commas,
    semicolons or newlines survive (`shifts_from_ical` reads them back). `prodid` is
    the product identifier, e.g. "-//OnCallNova//Schedules 1.0//EN"; `uid_prefix`
    makes UIDs globally unique, e.g. "oncall.example.com-schedule-42". `uid_scopes`,
    one per shift, tells apart shifts of different schedules in one feed.
    """
    if not prodid:
        raise ValueError("prodid: must not be empty")
    if not uid_prefix:
        raise ValueError("uid_prefix: must not be empty")
    stamp = require_aware(dtstamp, "dtstamp")
    names = display_names or {}
    scopes = [""] * len(shifts) if uid_scopes is None else list(uid_scopes)
    if len(scopes) != len(shifts):
        raise ValueError("uid_scopes: expected one scope per shift")

    calendar = Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("name", vText(name))  # RFC 7986
        calendar.add("x-wr-calname", vText(name))  # what most calendar apps read

    for shift, scope in zip(shifts, scopes, strict=True):
        start = require_aware(shift.start, "shift start")
        end = require_aware(shift.end, "shift end")
        if end <= start:
            raise ValueError(f"shift of {shift.user_id!r}: end must be after start")
        # iCalendar times have whole seconds. Both ends are truncated the same way, so
        # back-to-back shifts stay back to back; a shift shorter than that vanishes.
        start, end = start.replace(microsecond=0), end.replace(microsecond=0)
        if start == end:
            continue
        person = names.get(shift.user_id, shift.user_id)
        event = Event()
        event.add("uid", shift_uid(shift, uid_prefix, scope))
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", f"On call: {person}")
        event.add("description", f"{person} is on call ({shift.source}).")
        event.add("transp", "TRANSPARENT")  # being on call does not block the calendar
        event.add(USER_PROPERTY, vText(shift.user_id))
        event.add(SOURCE_PROPERTY, vText(shift.source))
        calendar.add_component(event)
    return calendar.to_ical()


def _unescape_text(value: str) -> str:
    # icalendar unescapes the TEXT properties it knows (SUMMARY) but hands X- properties
    # back raw, so RFC 5545 escapes are undone here.
    return _ESCAPED.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def shifts_from_ical(data: bytes) -> list[Shift]:
    """The shifts of a feed written by `shifts_to_ical` (user ids and sources included)."""
    calendar = Calendar.from_ical(data)
    shifts: list[Shift] = []
    for event in calendar.walk("VEVENT"):
        start = require_aware(event.decoded("dtstart"), "DTSTART")
        end = require_aware(event.decoded("dtend"), "DTEND")
        user = _unescape_text(str(event.get(USER_PROPERTY, "")))
        source = _unescape_text(str(event.get(SOURCE_PROPERTY, "")))
        shifts.append(Shift(user, start, end, source))
    return shifts
