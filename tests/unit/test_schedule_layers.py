"""Restrictions, layering, overrides, next_change and validation of the schedule model."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncallnova.oncall.logic import (
    Layer,
    Override,
    Restriction,
    Schedule,
    Shift,
    final_shifts,
    layer_shifts,
    next_change,
    oncall_at,
    parse_clock,
    segments,
    validate_time_zone,
    validate_turn,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
US = timedelta(microseconds=1)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


MON = utc(2026, 1, 5)  # a Monday, midnight UTC


def windows(restrictions, zone="UTC", start=MON, end=MON + 3 * 24 * H):
    layer = Layer("r", ["a"], "weekly", start - 30 * 24 * H, restrictions)
    return [(s.start, s.end) for s in layer_shifts(layer, zone, start, end)]


# --- restrictions -------------------------------------------------------------------


def test_time_of_day_restriction():
    assert windows([Restriction.time_of_day("09:00", "17:00")], end=MON + 48 * H) == [
        (MON + 9 * H, MON + 17 * H),
        (MON + 33 * H, MON + 41 * H),
    ]


def test_time_of_day_restriction_wraps_past_midnight():
    got = windows([Restriction.time_of_day("22:00", "06:00")], end=MON + 48 * H)
    assert got == [
        (MON, MON + 6 * H),  # the window that started on Sunday evening
        (MON + 22 * H, MON + 30 * H),
        (MON + 46 * H, MON + 48 * H),
    ]


def test_day_of_week_restriction_covers_the_weekend():
    weekend = Restriction.weekly("fri", "18:00", "mon", "08:00")
    got = windows([weekend], end=MON + 14 * 24 * H)
    assert got == [
        (MON, MON + 8 * H),
        (MON + 4 * 24 * H + 18 * H, MON + 7 * 24 * H + 8 * H),
        (MON + 11 * 24 * H + 18 * H, MON + 14 * 24 * H),
    ]


def test_day_of_week_restriction_same_day_wraps_a_whole_week():
    almost_all = Restriction.weekly(0, "10:00", 0, "09:00")  # all but Monday 09:00-10:00
    got = windows([almost_all], end=MON + 14 * 24 * H)
    assert got == [
        (MON, MON + 9 * H),
        (MON + 10 * H, MON + 7 * 24 * H + 9 * H),
        (MON + 7 * 24 * H + 10 * H, MON + 14 * 24 * H),
    ]


def test_overlapping_restrictions_are_a_union():
    got = windows(
        [Restriction.time_of_day("08:00", "12:00"), Restriction.time_of_day("11:00", "14:00")],
        end=MON + 24 * H,
    )
    assert got == [(MON + 8 * H, MON + 14 * H)]


def test_restrictions_use_the_schedule_zone():
    business = [Restriction.time_of_day("09:00", "17:00")]
    winter = windows(business, "America/New_York", MON, MON + 24 * H)
    summer_day = utc(2026, 7, 6)
    summer = windows(business, "America/New_York", summer_day, summer_day + 24 * H)
    assert winter == [(MON + 14 * H, MON + 22 * H)]
    assert summer == [(summer_day + 13 * H, summer_day + 21 * H)]


def test_restriction_edge_in_the_skipped_hour_starts_at_the_jump():
    # 02:30-04:00 on 2026-03-29 in Paris: the wall clock jumps from 02:00 to 03:00,
    # so the window starts at the jump (01:00 UTC) and ends at 04:00 CEST.
    day = utc(2026, 3, 29)
    got = windows([Restriction.time_of_day("02:30", "04:00")], "Europe/Paris", day, day + 24 * H)
    assert got == [(day + H, day + 2 * H)]


def test_restriction_inside_the_repeated_hour_is_covered_twice():
    day = utc(2026, 10, 25)
    got = windows([Restriction.time_of_day("02:30", "02:45")], "Europe/Paris", day, day + 24 * H)
    assert got == [
        (day + 30 * timedelta(minutes=1), day + 45 * timedelta(minutes=1)),  # CEST
        (day + 90 * timedelta(minutes=1), day + 105 * timedelta(minutes=1)),  # CET
    ]
    night = Restriction.time_of_day("22:00", "02:30")
    got = windows([night], "Europe/Paris", utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert got == [
        (utc(2026, 10, 24, 20), utc(2026, 10, 25, 0, 30)),  # 22:00 to 02:30 CEST
        (utc(2026, 10, 25, 1), utc(2026, 10, 25, 1, 30)),  # 02:00 to 02:30 CET again
    ]


def test_restrictions_mask_the_rotation_without_shifting_it():
    layer = Layer("day", ["a", "b"], "daily", MON, [Restriction.time_of_day("09:00", "17:00")])
    schedule = Schedule("UTC", [layer])
    assert oncall_at(schedule, MON + 8 * H) == []
    assert oncall_at(schedule, MON + 9 * H) == ["a"]
    assert oncall_at(schedule, MON + 33 * H) == ["b"]
    assert oncall_at(schedule, MON + 41 * H) == []
    assert final_shifts(schedule, MON, MON + 48 * H) == [
        Shift("a", MON + 9 * H, MON + 17 * H, "day"),
        Shift("b", MON + 33 * H, MON + 41 * H, "day"),
    ]


# --- layers and overrides -----------------------------------------------------------

BASE = Layer("base", ["a", "b"], "daily", MON)
BUSINESS = Layer("business", ["c"], "weekly", MON, [Restriction.time_of_day("09:00", "17:00")])


def test_a_higher_layer_covers_a_lower_one_where_it_has_someone():
    schedule = Schedule("UTC", [BASE, BUSINESS])
    assert final_shifts(schedule, MON, MON + 48 * H) == [
        Shift("a", MON, MON + 9 * H, "base"),
        Shift("c", MON + 9 * H, MON + 17 * H, "business"),
        Shift("a", MON + 17 * H, MON + 24 * H, "base"),
        Shift("b", MON + 24 * H, MON + 33 * H, "base"),
        Shift("c", MON + 33 * H, MON + 41 * H, "business"),
        Shift("b", MON + 41 * H, MON + 48 * H, "base"),
    ]
    # Order matters: the same layers the other way round hide the business layer.
    assert final_shifts(Schedule("UTC", [BUSINESS, BASE]), MON, MON + 24 * H) == [
        Shift("a", MON, MON + 24 * H, "base")
    ]


def test_a_layer_before_its_handoff_and_after_its_end_lets_lower_layers_show():
    late = Layer("late", ["z"], "daily", MON + 12 * H, end=MON + 30 * H)
    schedule = Schedule("UTC", [BASE, late])
    assert final_shifts(schedule, MON, MON + 48 * H) == [
        Shift("a", MON, MON + 12 * H, "base"),
        Shift("z", MON + 12 * H, MON + 30 * H, "late"),
        Shift("b", MON + 30 * H, MON + 48 * H, "base"),
    ]


def test_overrides_cover_everything_and_are_clipped():
    overrides = [
        Override("x", MON - 5 * H, MON + 2 * H),
        Override("y", MON + 10 * H, MON + 11 * H),
        Override("a", MON + 20 * H, MON + 24 * H),  # the same user as the layer
    ]
    schedule = Schedule("UTC", [BASE, BUSINESS], overrides)
    assert final_shifts(schedule, MON, MON + 26 * H) == [
        Shift("x", MON, MON + 2 * H, "override"),
        Shift("a", MON + 2 * H, MON + 9 * H, "base"),
        Shift("c", MON + 9 * H, MON + 10 * H, "business"),
        Shift("y", MON + 10 * H, MON + 11 * H, "override"),
        Shift("c", MON + 11 * H, MON + 17 * H, "business"),
        Shift("a", MON + 17 * H, MON + 20 * H, "base"),
        Shift("a", MON + 20 * H, MON + 24 * H, "override"),
        Shift("b", MON + 24 * H, MON + 26 * H, "base"),
    ]
    assert oncall_at(schedule, MON + 10 * H) == ["y"]
    assert oncall_at(schedule, MON + 11 * H) == ["c"]


def test_overlapping_overrides_the_last_listed_wins():
    overrides = [Override("x", MON, MON + 10 * H), Override("y", MON + 2 * H, MON + 4 * H)]
    schedule = Schedule("UTC", [], overrides)
    assert final_shifts(schedule, MON, MON + 12 * H) == [
        Shift("x", MON, MON + 2 * H, "override"),
        Shift("y", MON + 2 * H, MON + 4 * H, "override"),
        Shift("x", MON + 4 * H, MON + 10 * H, "override"),
    ]
    assert oncall_at(schedule, MON + 3 * H) == ["y"]


def test_adjacent_overrides_of_one_user_merge():
    overrides = [Override("x", MON, MON + 2 * H), Override("x", MON + 2 * H, MON + 4 * H)]
    assert final_shifts(Schedule("UTC", [], overrides), MON, MON + 5 * H) == [
        Shift("x", MON, MON + 4 * H, "override")
    ]


def test_empty_schedule_and_empty_ranges():
    empty = Schedule("Europe/Paris")
    assert oncall_at(empty, MON) == []
    assert final_shifts(empty, MON, MON + 24 * H) == []
    assert segments(empty, MON, MON + H) == [(MON, MON + H, None, None)]
    assert final_shifts(Schedule("UTC", [BASE]), MON, MON) == []
    with pytest.raises(ValueError, match="end"):
        final_shifts(empty, MON, MON - H)
    with pytest.raises(ValueError, match="timezone-aware"):
        oncall_at(empty, datetime(2026, 1, 1))


def test_final_shifts_for_three_months_of_hourly_turns_is_cheap():
    layers = [
        Layer("hourly", ["a", "b", "c"], "hourly", MON),
        Layer("nights", ["d", "e"], "daily", MON, [Restriction.time_of_day("22:00", "06:00")]),
    ]
    schedule = Schedule("Europe/Paris", layers)
    shifts = final_shifts(schedule, MON, MON + 92 * 24 * H)
    assert 92 * 16 <= len(shifts) <= 92 * 24
    assert all(a.end == b.start for a, b in itertools.pairwise(shifts))


# --- next_change --------------------------------------------------------------------


def test_next_change():
    schedule = Schedule("UTC", [BASE, BUSINESS], [Override("x", MON + 3 * H, MON + 4 * H)])
    assert next_change(schedule, MON) == MON + 3 * H
    assert next_change(schedule, MON + 3 * H) == MON + 4 * H
    assert next_change(schedule, MON + 4 * H) == MON + 9 * H
    assert next_change(schedule, MON + 9 * H + US) == MON + 17 * H
    assert next_change(schedule, MON + 17 * H) == MON + 24 * H


def test_next_change_skips_changes_of_source_only():
    schedule = Schedule("UTC", [Layer("solo", ["a"], "daily", MON)], [Override("a", MON, MON + H)])
    assert next_change(schedule, MON, horizon=timedelta(days=30)) is None


def test_next_change_far_away_and_never():
    weekly = Layer("weekly", ["a", "b"], "weekly", MON)
    assert next_change(Schedule("UTC", [weekly]), MON + H) == MON + 7 * 24 * H
    starts_later = Layer("later", ["a"], "daily", MON + 100 * 24 * H)
    schedule = Schedule("UTC", [starts_later])
    assert next_change(schedule, MON) == MON + 100 * 24 * H
    assert next_change(schedule, MON, horizon=timedelta(days=99)) is None
    assert next_change(schedule, MON + 100 * 24 * H) is None
    assert next_change(Schedule("UTC"), MON) is None


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Layer("l", [], "daily", MON), "at least one user"),
        (lambda: Layer("l", [""], "daily", MON), "non-empty strings"),
        (lambda: Layer("l", "abc", "daily", MON), "list of user ids"),
        (lambda: Layer("", ["a"], "daily", MON), "layer name"),
        (lambda: Layer("l", ["a"], 0, MON), "must be > 0"),
        (lambda: Layer("l", ["a"], -3, MON), "must be > 0"),
        (lambda: Layer("l", ["a"], float("nan"), MON), "must be > 0"),
        (lambda: Layer("l", ["a"], "monthly", MON), "hourly, daily, weekly"),
        (lambda: Layer("l", ["a"], True, MON), "hourly, daily, weekly"),
        (lambda: Layer("l", ["a"], "daily", datetime(2026, 1, 1)), "timezone-aware"),
        (lambda: Layer("l", ["a"], "daily", MON, end=MON), "after the handoff"),
        (lambda: Override("a", MON, MON), "after its start"),
        (lambda: Override("a", MON, MON - H), "after its start"),
        (lambda: Override("", MON, MON + H), "user_id"),
        (lambda: Schedule("Mars/Olympus"), "unknown time zone"),
        (lambda: Schedule("../../etc/passwd"), "unknown time zone"),
        (lambda: Schedule("Europe"), "unknown time zone"),
        (lambda: Schedule(""), "IANA"),
        (lambda: Schedule("UTC", [BASE, BASE]), "duplicate layer name"),
        (lambda: Schedule("UTC", [Layer("override", ["a"], 1, MON)]), "reserved"),
        (lambda: Restriction("9:00", "17:00"), "HH:MM"),
        (lambda: Restriction("09:00", "24:00"), "HH:MM"),
        (lambda: Restriction("09:60", "10:00"), "HH:MM"),
        (lambda: Restriction("09:00", "09:00"), "window is empty"),
        (lambda: Restriction("09:00", "17:00", 0, None), "both start_day and end_day"),
        (lambda: Restriction("09:00", "17:00", 0, 7), "weekday"),
        (lambda: Restriction.weekly("mon", "09:00", "funday", "10:00"), "unknown weekday"),
        (lambda: Restriction.weekly(2, "09:00", 2, "09:00"), "window is empty"),
    ],
)
def test_validation_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_validation_helpers_and_normalization():
    assert validate_time_zone("Europe/Paris") == PARIS
    assert parse_clock("23:59").hour == 23
    assert validate_turn(2.5) == 2.5
    assert Restriction.weekly("Saturday", "00:00", "sun", "23:00").start_day == 5
    layer = Layer("l", ["a", "b"], 6, datetime(2026, 3, 1, 9, tzinfo=PARIS))
    assert layer.users == ("a", "b")
    assert layer.handoff == utc(2026, 3, 1, 8) and layer.handoff.tzinfo is UTC
    schedule = Schedule("UTC", [layer], [Override("x", MON, MON + H)])
    assert isinstance(schedule.layers, tuple) and isinstance(schedule.overrides, tuple)
