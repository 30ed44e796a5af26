"""`import ical`: a schedule's iCalendar feed (RFC 5545) as a schedule whose shifts are
the feed's events. PagerDuty, Opsgenie and Grafana OnCall each publish one feed per
schedule, with one event per shift; the person on call is an ATTENDEE (mailto:) or an
address written in the event's SUMMARY or DESCRIPTION. Each shift becomes an override,
which covers everything else, so the schedule's shifts are exactly the feed's.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar

from oncallnova.importers.model import Bundle, OverrideSpec, ScheduleSpec
from oncallnova.oncall.model import validate_time_zone

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def read_source(source: str, timeout: float = 30) -> bytes:
    """The feed at a URL (http, https, webcal) or in a file."""
    if re.match(r"(?i)^(https?|webcal)://", source):
        url = re.sub(r"(?i)^webcal://", "https://", source)
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
        response.raise_for_status()
        return response.content
    return Path(source).read_bytes()


def to_bundle(data: bytes, schedule: str) -> Bundle:
    bundle = Bundle()
    calendar = Calendar.from_ical(data)
    zone = str(calendar.get("X-WR-TIMEZONE") or "UTC")
    try:
        validate_time_zone(zone)
    except ValueError:
        bundle.remark("schedule", schedule, f"unknown time zone {zone}: UTC instead")
        zone = "UTC"
    spec = ScheduleSpec(name=schedule, time_zone=zone)
    local = ZoneInfo(zone)  # floating times and whole days are the feed's local time
    for event in calendar.walk("VEVENT"):
        summary = str(event.get("SUMMARY") or "")
        start, end = event.get("DTSTART"), event.get("DTEND")
        if start is None or end is None:
            bundle.remark("shift", summary or "(no summary)", "no start or end: left out")
            continue
        if event.get("RRULE") is not None:
            text = "a recurring event: only its first occurrence is imported"
            bundle.remark("shift", summary, text)
        emails = _emails(event)
        if not emails:
            bundle.remark("shift", summary, "names nobody by email: left out")
            continue
        for email in emails:
            spec.overrides.append(
                OverrideSpec(email, _instant(start.dt, local), _instant(end.dt, local))
            )
    spec.overrides.sort(key=lambda o: (o.start, o.email))
    bundle.schedules.append(spec)
    return bundle


def _emails(event: object) -> list[str]:
    attendees = event.get("ATTENDEE")  # type: ignore[attr-defined]
    if attendees is not None:
        listed = attendees if isinstance(attendees, list) else [attendees]
        found = [str(a).split(":", 1)[-1] for a in listed if "@" in str(a)]
        if found:
            return [e.lower() for e in found]
    text = f"{event.get('SUMMARY') or ''} {event.get('DESCRIPTION') or ''}"  # type: ignore[attr-defined]
    return list(dict.fromkeys(e.lower() for e in EMAIL.findall(text)))


def _instant(value: datetime | date, local: tzinfo) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=local)
    return value if value.tzinfo is not None else value.replace(tzinfo=local)
