"""Rotations: hourly, daily, weekly and N-hour turns, and their behaviour across DST."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncallnova.oncall.logic import (
    Layer,
    Schedule,
    Shift,
    layer_shifts,
    layer_user_at,
    oncall_at,
    resolve_local,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def one_layer(turn, handoff, users=("a", "b", "c"), zone="UTC", end=None) -> Schedule:
    return Schedule(zone, [Layer("primary", list(users), turn, handoff, end=end)])


HANDOFF = utc(2026, 1, 5, 9)  # a Monday

ROTATIONS = [
    # (turn, instant, expected users)
    ("hourly", HANDOFF - timedelta(microseconds=1), []),
    ("hourly", HANDOFF, ["a"]),
    ("hourly", HANDOFF + 59 * timedelta(minutes=1), ["a"]),
    ("hourly", HANDOFF + H, ["b"]),
    ("hourly", HANDOFF + 2.5 * H, ["c"]),
    ("hourly", HANDOFF + 3 * H, ["a"]),
    ("hourly", HANDOFF + 1000 * H, ["b"]),  # 1000 % 3 == 1
    ("daily", HANDOFF + 23 * H, ["a"]),
    ("daily", HANDOFF + 24 * H, ["b"]),
    ("daily", HANDOFF + 48 * H, ["c"]),
    ("daily", HANDOFF + 72 * H, ["a"]),
    ("daily", HANDOFF - H, []),
    ("weekly", HANDOFF + 6 * 24 * H, ["a"]),
    ("weekly", utc(2026, 1, 12, 8, 59), ["a"]),
    ("weekly", utc(2026, 1, 12, 9), ["b"]),
    ("weekly", utc(2026, 1, 19, 9), ["c"]),
    ("weekly", utc(2026, 1, 26, 9), ["a"]),
    ("weekly", utc(2026, 12, 28, 9), ["a"]),  # 51 weeks later
    (12, HANDOFF + 11 * H, ["a"]),
    (12, HANDOFF + 12 * H, ["b"]),
    (12, HANDOFF + 36 * H, ["a"]),
    (1.5, HANDOFF + 1.4 * H, ["a"]),
    (1.5, HANDOFF + 1.5 * H, ["b"]),
    (1.5, HANDOFF + 4.5 * H, ["a"]),
    (0.25, HANDOFF + timedelta(minutes=31), ["c"]),
]


@pytest.mark.parametrize(("turn", "at", "expected"), ROTATIONS)
def test_rotation_table(turn, at, expected):
    assert oncall_at(one_layer(turn, HANDOFF), at) == expected


def test_layer_end_stops_the_rotation():
    schedule = one_layer("daily", HANDOFF, end=HANDOFF + 36 * H)
    assert oncall_at(schedule, HANDOFF + 35 * H) == ["b"]
    assert oncall_at(schedule, HANDOFF + 36 * H) == []
    shifts = layer_shifts(schedule.layers[0], "UTC", HANDOFF - H, HANDOFF + 100 * H)
    assert shifts == [
        Shift("a", HANDOFF, HANDOFF + 24 * H, "primary"),
        Shift("b", HANDOFF + 24 * H, HANDOFF + 36 * H, "primary"),
    ]


def test_layer_shifts_are_clipped_and_merged_for_repeated_users():
    layer = Layer("primary", ["a", "a", "b"], "daily", HANDOFF)
    shifts = layer_shifts(layer, "UTC", HANDOFF + 12 * H, HANDOFF + 96 * H)
    assert shifts == [
        Shift("a", HANDOFF + 12 * H, HANDOFF + 48 * H, "primary"),
        Shift("b", HANDOFF + 48 * H, HANDOFF + 72 * H, "primary"),
        Shift("a", HANDOFF + 72 * H, HANDOFF + 96 * H, "primary"),
    ]
    single = Layer("solo", ["a"], "hourly", HANDOFF)
    assert layer_shifts(single, "UTC", HANDOFF, HANDOFF + 500 * H) == [
        Shift("a", HANDOFF, HANDOFF + 500 * H, "solo")
    ]


def test_daily_turns_follow_the_local_wall_clock():
    # 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer.
    layer = Layer("primary", ["a", "b"], "daily", datetime(2026, 1, 5, 9, tzinfo=NEW_YORK))
    assert layer_user_at(layer, NEW_YORK, utc(2026, 1, 6, 13, 59)) == "a"
    assert layer_user_at(layer, NEW_YORK, utc(2026, 1, 6, 14)) == "b"
    # 2026-07-01 is day 177 after the handoff: an odd turn.
    assert layer_user_at(layer, NEW_YORK, utc(2026, 7, 1, 12, 59)) == "a"
    assert layer_user_at(layer, NEW_YORK, utc(2026, 7, 1, 13)) == "b"


def test_n_hour_turns_are_elapsed_time_even_across_dst():
    # 24 hours is not "daily": after the spring change the handoff drifts to 10:00 CEST.
    layer = Layer("primary", ["a", "b", "c"], 24, datetime(2026, 3, 28, 9, tzinfo=PARIS))
    shifts = layer_shifts(layer, PARIS, utc(2026, 3, 28, 8), utc(2026, 3, 30, 8))
    assert [s.start for s in shifts] == [utc(2026, 3, 28, 8), utc(2026, 3, 29, 8)]
    assert shifts[1].start.astimezone(PARIS).hour == 10


def test_hourly_turns_stay_one_hour_through_the_short_day():
    layer = Layer("primary", ["a", "b"], "hourly", utc(2026, 3, 28, 23))
    shifts = layer_shifts(layer, PARIS, utc(2026, 3, 28, 23), utc(2026, 3, 29, 23))
    assert len(shifts) == 24
    assert all(s.end - s.start == H for s in shifts)


def test_weekly_turns_keep_the_local_time_across_dst():
    layer = Layer("primary", ["a", "b"], "weekly", datetime(2026, 3, 23, 9, tzinfo=PARIS))
    shifts = layer_shifts(layer, PARIS, utc(2026, 3, 23), utc(2026, 4, 7))
    assert [s.start for s in shifts] == [
        utc(2026, 3, 23, 8),
        utc(2026, 3, 30, 7),
        utc(2026, 4, 6, 7),
    ]
    assert shifts[1].start - shifts[0].start == 167 * H


# Each case: a daily rotation of three users whose handoff is given as a local wall time,
# and the UTC starts of the turns over the DST change; the third start is on the change.
DST_CASES = {
    "paris-spring-0900": (PARIS, datetime(2026, 3, 27, 9), [
        utc(2026, 3, 27, 8), utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7),
    ]),
    "paris-autumn-0900": (PARIS, datetime(2026, 10, 23, 9), [
        utc(2026, 10, 23, 7), utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8),
    ]),
    "new-york-spring-0900": (NEW_YORK, datetime(2026, 3, 6, 9), [
        utc(2026, 3, 6, 14), utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), utc(2026, 3, 9, 13),
    ]),
    "new-york-autumn-0900": (NEW_YORK, datetime(2026, 10, 30, 9), [
        utc(2026, 10, 30, 13), utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), utc(2026, 11, 2, 14),
    ]),
    # 02:30 does not exist on 2026-03-29 in Paris: read with the old offset (+01:00), it
    # is 01:30 UTC, i.e. 03:30 CEST; that turn is 24 h long and the next one 23 h.
    "paris-spring-0230-skipped": (PARIS, datetime(2026, 3, 27, 2, 30), [
        utc(2026, 3, 27, 1, 30), utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]),
    # 02:30 happens twice on 2026-10-25 in Paris: the first (CEST) occurrence is used.
    "paris-autumn-0230-repeated": (PARIS, datetime(2026, 10, 23, 2, 30), [
        utc(2026, 10, 23, 0, 30), utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]),
    "new-york-spring-0230-skipped": (NEW_YORK, datetime(2026, 3, 6, 2, 30), [
        utc(2026, 3, 6, 7, 30), utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30),
        utc(2026, 3, 9, 6, 30),
    ]),
    # New York repeats 01:00-02:00 (not 02:00-03:00): 01:30 is the ambiguous time...
    "new-york-autumn-0130-repeated": (NEW_YORK, datetime(2026, 10, 30, 1, 30), [
        utc(2026, 10, 30, 5, 30), utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 2, 6, 30),
    ]),
    # ...and 02:30 exists once, in EST, so the turn before it is 25 hours long.
    "new-york-autumn-0230-unique": (NEW_YORK, datetime(2026, 10, 30, 2, 30), [
        utc(2026, 10, 30, 6, 30), utc(2026, 10, 31, 6, 30), utc(2026, 11, 1, 7, 30),
        utc(2026, 11, 2, 7, 30),
    ]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(DST_CASES))
def test_daily_handoff_across_dst(case):
    zone, local_handoff, starts = DST_CASES[case]
    handoff = local_handoff.replace(tzinfo=zone)
    assert handoff.astimezone(UTC) == starts[0]
    schedule = Schedule(zone.key, [Layer("primary", ["a", "b", "c"], "daily", handoff)])
    shifts = layer_shifts(schedule.layers[0], zone, starts[0], starts[-1])
    assert [s.start for s in shifts] == starts[:-1]
    assert [s.end for s in shifts] == starts[1:]
    assert [s.user_id for s in shifts] == ["a", "b", "c"]
    for start, user in zip(starts, ["a", "b", "c", "a"], strict=True):
        assert oncall_at(schedule, start) == [user]
        assert oncall_at(schedule, start - timedelta(microseconds=1)) != [user]
    # Every turn starts at the handoff's wall-clock time, except where that time does
    # not exist (the turn then starts one hour later on the wall clock).
    wall = {s.astimezone(zone).time() for s in starts}
    assert local_handoff.time() in wall
    assert len(wall) <= 2


def test_turn_lengths_on_dst_days_are_23_and_25_hours():
    spring = DST_CASES["paris-spring-0900"][2]
    autumn = DST_CASES["new-york-autumn-0900"][2]
    assert [b - a for a, b in itertools.pairwise(spring)] == [24 * H, 23 * H, 24 * H]
    assert [b - a for a, b in itertools.pairwise(autumn)] == [24 * H, 25 * H, 24 * H]


def test_handoff_inside_the_skipped_hour_on_the_day_itself():
    # A handoff is an instant: 02:30 on the day it does not exist becomes 03:30 CEST, and
    # that instant's wall-clock reading (03:30) is the rotation's time from then on. To
    # rotate at 02:30, give the handoff on a day when 02:30 exists (see DST_CASES).
    handoff = datetime(2026, 3, 29, 2, 30, tzinfo=PARIS)
    layer = Layer("primary", ["a", "b"], "daily", handoff)
    assert layer.handoff == utc(2026, 3, 29, 1, 30)
    shifts = layer_shifts(layer, PARIS, utc(2026, 3, 29), utc(2026, 3, 31, 12))
    assert [s.start for s in shifts] == [
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 1, 30),
        utc(2026, 3, 31, 1, 30),
    ]
    assert {s.start.astimezone(PARIS).hour for s in shifts} == {3}


def test_handoff_at_the_second_occurrence_of_a_repeated_time():
    # The handoff instant itself is kept; later turns use the first occurrence rule.
    handoff = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS)
    layer = Layer("primary", ["a", "b"], "daily", handoff)
    assert layer.handoff == utc(2026, 10, 25, 1, 30)
    assert layer_user_at(layer, PARIS, utc(2026, 10, 25, 1, 29)) is None
    assert layer_user_at(layer, PARIS, utc(2026, 10, 25, 1, 30)) == "a"
    assert layer_user_at(layer, PARIS, utc(2026, 10, 26, 1, 30)) == "b"


@pytest.mark.parametrize(
    ("zone", "local", "expected"),
    [
        (PARIS, datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 30)),
        (PARIS, datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30)),
        (NEW_YORK, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7, 30)),
        (NEW_YORK, datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30)),
        (NEW_YORK, datetime(2026, 11, 1, 2, 30), utc(2026, 11, 1, 7, 30)),
    ],
)
def test_resolve_local(zone, local, expected):
    assert resolve_local(local.date(), local.time(), zone) == expected
