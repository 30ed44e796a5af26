"""iCalendar export: a valid RFC 5545 feed that parses back to the same shifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from oncallnova.oncall.ical import shift_uid, shifts_from_ical, shifts_to_ical
from oncallnova.oncall.logic import Shift, final_shifts, shifts_overlapping
from tests.unit.test_schedule_properties import schedules_and_ranges

H = timedelta(hours=1)
T0 = datetime(2026, 3, 28, 8, tzinfo=UTC)
STAMP = datetime(2026, 3, 1, 12, tzinfo=UTC)
NAMES = {"ann": "Ann Lee", "bob": "Bob, the; builder\nJr.", "zed": "Zoë Ñúñez"}
SHIFTS = [
    Shift("ann", T0, T0 + 23 * H, "primary"),
    Shift("bob", T0 + 23 * H, T0 + 47 * H, "primary"),
    Shift("zed", T0 + 47 * H, T0 + 48 * H, "override"),
    Shift("nobody-named", T0 + 50 * H, T0 + 51 * H, "secondary"),
]


def export(shifts=SHIFTS, **kwargs) -> bytes:
    options = {
        "prodid": "-//OnCallNova//Schedules 1.0//EN",
        "uid_prefix": "oncall.example.com-schedule-7",
        "dtstamp": STAMP,
        "display_names": NAMES,
    }
    options.update(kwargs)
    return shifts_to_ical("Primary, EU", shifts, **options)


def test_calendar_properties_and_one_event_per_shift():
    calendar = Calendar.from_ical(export())
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//OnCallNova//Schedules 1.0//EN"
    events = calendar.walk("VEVENT")
    assert len(events) == len(SHIFTS)
    uids = {str(event["UID"]) for event in events}
    assert len(uids) == len(SHIFTS)
    for event, shift in zip(events, SHIFTS, strict=True):
        assert event.decoded("DTSTAMP") == STAMP
        assert event.decoded("DTSTART") == shift.start
        assert event.decoded("DTEND") == shift.end
        assert str(event["SUMMARY"]) == f"On call: {NAMES.get(shift.user_id, shift.user_id)}"


def test_wire_format_is_utc_crlf_and_folded():
    raw = export()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)  # RFC 5545 3.1: fold at 75 octets
    assert b"DTSTART:20260328T080000Z" in lines
    assert b"DTEND:20260329T070000Z" in lines
    assert b"DTSTAMP:20260301T120000Z" in lines
    assert b"SUMMARY:On call: Bob\\, the\\; builder\\nJr." in lines
    assert not any(line.startswith(b"BEGIN:VTIMEZONE") for line in lines)


def test_special_characters_survive_a_round_trip():
    events = Calendar.from_ical(export()).walk("VEVENT")
    assert str(events[1]["SUMMARY"]) == "On call: Bob, the; builder\nJr."
    assert str(events[2]["SUMMARY"]) == "On call: Zoë Ñúñez"
    odd = [Shift("id,with;odd\\chars", T0, T0 + H, "layer; one")]
    assert shifts_from_ical(export(odd)) == odd


def test_uids_are_stable_across_refreshes_and_distinct_between_shifts():
    first = [str(e["UID"]) for e in Calendar.from_ical(export()).walk("VEVENT")]
    later = export(dtstamp=STAMP + timedelta(days=3), display_names={})
    assert first == [str(e["UID"]) for e in Calendar.from_ical(later).walk("VEVENT")]
    assert all(uid.startswith("oncall.example.com-schedule-7-") for uid in first)
    moved = Shift("ann", T0 + H, T0 + 23 * H, "primary")
    assert shift_uid(moved, "p") != shift_uid(SHIFTS[0], "p")


def test_empty_feed_and_bad_arguments():
    calendar = Calendar.from_ical(export([]))
    assert calendar.walk("VEVENT") == []
    with pytest.raises(ValueError, match="prodid"):
        export(prodid="")
    with pytest.raises(ValueError, match="uid_prefix"):
        export(uid_prefix="")
    with pytest.raises(ValueError, match="dtstamp"):
        export(dtstamp=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="end must be after start"):
        export([Shift("ann", T0, T0, "primary")])


NAMES_BY_ID = {"ann": "Ann Lee", "bob": "Bob, B.", "cat": "Cat; C", "dan": "Dan\nD", "zed": "Zed"}


def whole_seconds(shifts: list[Shift]) -> list[Shift]:
    truncated = [
        Shift(s.user_id, s.start.replace(microsecond=0), s.end.replace(microsecond=0), s.source)
        for s in shifts
    ]
    return [s for s in truncated if s.start < s.end]


@settings(max_examples=60, deadline=None)
@given(schedules_and_ranges())
def test_feed_parses_back_to_the_same_shifts(case):
    schedule, start, end = case
    shifts = final_shifts(schedule, start, end)
    raw = export(shifts, display_names=NAMES_BY_ID)
    by_name = {name: user for user, name in NAMES_BY_ID.items()}
    parsed = [
        (
            by_name[str(e["SUMMARY"]).removeprefix("On call: ")],
            e.decoded("DTSTART"),
            e.decoded("DTEND"),
        )
        for e in Calendar.from_ical(raw).walk("VEVENT")
    ]
    expected = whole_seconds(shifts)
    assert parsed == [(s.user_id, s.start, s.end) for s in expected]
    assert shifts_from_ical(raw) == expected


def test_times_are_truncated_to_whole_seconds():
    us = timedelta(microseconds=1)
    shifts = [
        Shift("ann", T0 + 5 * us, T0 + H + 5 * us, "primary"),
        Shift("bob", T0 + H + 5 * us, T0 + H + 9 * us, "override"),  # vanishes
        Shift("ann", T0 + H + 9 * us, T0 + 2 * H, "primary"),
    ]
    assert shifts_from_ical(export(shifts)) == [
        Shift("ann", T0, T0 + H, "primary"),
        Shift("ann", T0 + H, T0 + 2 * H, "primary"),
    ]


@settings(max_examples=60, deadline=None)
@given(schedules_and_ranges(), st.integers(0, 9 * 24 * 60))
def test_a_moving_window_keeps_every_uid(case, minutes):
    """The shift going on at a feed's start is given whole, so wherever the window
    starts, a shift has the same start, hence the same UID."""
    schedule, start, end = case
    earliest = min(
        [la.handoff for la in schedule.layers] + [o.start for o in schedule.overrides],
        default=start,
    )
    whole = final_shifts(schedule, min(earliest, start), end)
    later = start + minutes * timedelta(minutes=1)
    if later >= end:
        return
    shifts = shifts_overlapping(schedule, later, end)
    assert shifts == [s for s in whole if s.end > later]
    uids = {shift_uid(s, "p") for s in shifts_overlapping(schedule, start, end)}
    assert {shift_uid(s, "p") for s in shifts} <= uids


def test_uid_scopes_tell_schedules_apart():
    twice = [SHIFTS[0], SHIFTS[0]]
    with pytest.raises(ValueError, match="uid_scopes"):
        export(twice, uid_scopes=["a"])
    events = Calendar.from_ical(export(twice, uid_scopes=["a", "b"])).walk("VEVENT")
    assert len({str(e["UID"]) for e in events}) == 2
