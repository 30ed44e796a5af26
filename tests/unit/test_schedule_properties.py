"""Property tests: the fast sweep agrees with point queries and with a brute-force model.

The reference below is written differently on purpose: restriction windows are modular
arithmetic on local seconds-of-day/week, wall-clock turn starts are found by walking
local dates one turn at a time, and nonexistent/ambiguous local times are resolved by
trying every UTC offset the zone uses nearby (earliest match wins; no match means the
time was skipped, and it is read with the offset in force 12 hours earlier).
"""

from __future__ import annotations

import bisect
import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncallnova.oncall.logic import (
    Layer,
    Override,
    Restriction,
    Schedule,
    Shift,
    final_shifts,
    layer_shifts,
    layer_user_at,
    next_change,
    oncall_at,
)

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
USERS = ["ann", "bob", "cat", "dan"]
# Ranges start near a DST change more often than not, where bugs live.
ANCHORS = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),  # Lord Howe goes back 30 minutes
    datetime(2026, 10, 3, 15, tzinfo=UTC),  # and forward
    datetime(2026, 6, 15, tzinfo=UTC),
]
MINUTE = timedelta(minutes=1)
US = timedelta(microseconds=1)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- strategies ---------------------------------------------------------------------

# Times that are skipped or repeated on some day in the zones above.
TRICKY_TIMES = [time(2, 30), time(1, 30), time(2, 0), time(2, 15), time(1, 45), time(3, 0)]
minute_of_day = (
    st.sampled_from([0, 0, 15, 30, 45]).flatmap(
        lambda m: st.integers(0, 23).map(lambda h: h * 60 + m)
    )
    | st.sampled_from([t.hour * 60 + t.minute for t in TRICKY_TIMES])
    | st.integers(0, 1439)
)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


# Windows whose start equals their end are empty and rejected by design, so a window is
# drawn as a start and a non-zero length.
restriction = st.one_of(
    st.builds(
        lambda start, length: Restriction.time_of_day(hhmm(start), hhmm(start + length)),
        minute_of_day,
        st.integers(1, 1439),
    ),
    st.builds(
        lambda day, start, length: Restriction.weekly(
            day, hhmm(start), (day + (start + length) // 1440) % 7, hhmm(start + length)
        ),
        st.integers(0, 6),
        minute_of_day,
        st.integers(1, 7 * 1440 - 1),
    ),
)
turn = st.one_of(
    st.sampled_from(["hourly", "daily", "weekly"]),
    st.integers(1, 72),
    st.sampled_from([0.25, 1.5, 7.75, 36.5]),
)


@st.composite
def schedules_and_ranges(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime]:
    anchor = draw(st.sampled_from(ANCHORS))
    start = anchor + draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)) * MINUTE
    start += draw(st.sampled_from([0, 0, 0, 1, 17_000_001])) * US
    end = start + draw(st.integers(1, 40 * 24 * 60)) * MINUTE
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    layers = []
    for number in range(draw(st.integers(0, 3))):
        handoff = start + draw(st.integers(-30 * 24 * 60, 10 * 24 * 60)) * MINUTE
        if draw(st.booleans()):
            # A local wall time that some day is skipped or repeated, either occurrence.
            wall = draw(st.sampled_from(TRICKY_TIMES))
            day = handoff.astimezone(zone).date()
            handoff = datetime.combine(day, wall, tzinfo=zone).replace(fold=draw(st.integers(0, 1)))
        restrictions = draw(st.lists(restriction, max_size=2))
        layer_end = None
        if draw(st.booleans()):
            # in UTC: wall-clock arithmetic on a fold=1 time could land before the handoff
            layer_end = handoff.astimezone(UTC) + draw(st.integers(1, 50 * 24 * 60)) * MINUTE
        users = draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=4))
        layers.append(Layer(f"L{number}", users, draw(turn), handoff, restrictions, layer_end))
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        o_start = start + draw(st.integers(-2 * 24 * 60, 40 * 24 * 60)) * MINUTE
        o_end = o_start + draw(st.integers(1, 5 * 24 * 60)) * MINUTE
        overrides.append(Override(draw(st.sampled_from([*USERS, "zed"])), o_start, o_end))
    return Schedule(zone.key, layers, overrides), start, end


# --- the brute-force reference ------------------------------------------------------


def _us(hhmm: str) -> int:
    return (int(hhmm[:2]) * 3600 + int(hhmm[3:]) * 60) * 1_000_000


def ref_in_restriction(r: Restriction, local: datetime) -> bool:
    """Seconds (in microseconds) of the local day or week, compared modulo the period."""
    day = 86400 * 1_000_000
    of_day = (local.hour * 3600 + local.minute * 60 + local.second) * 1_000_000
    of_day += local.microsecond
    if r.start_day is None:
        period, pos, lo, hi = day, of_day, _us(r.start), _us(r.end)
    else:
        period, pos = 7 * day, local.weekday() * day + of_day
        lo = r.start_day * day + _us(r.start)
        hi = r.end_day * day + _us(r.end)
    return (pos - lo) % period < (hi - lo) % period


def ref_resolve(naive: datetime, zone: ZoneInfo) -> datetime:
    near = naive.replace(tzinfo=UTC)
    offsets = {
        (near + h * timedelta(hours=1)).astimezone(zone).utcoffset() for h in range(-27, 28, 3)
    }
    matches = [
        (naive - off).replace(tzinfo=UTC)
        for off in offsets
        if (naive - off).replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None) == naive
    ]
    if matches:
        return min(matches)
    before = (naive - timedelta(hours=12)).replace(tzinfo=zone).utcoffset()
    return (naive - before).replace(tzinfo=UTC)


class Reference:
    """Who is on call, computed naively; turn starts are listed once up to `until`."""

    def __init__(self, schedule: Schedule, until: datetime) -> None:
        self.schedule = schedule
        self.zone = ZoneInfo(schedule.time_zone)
        self.starts = [self._turn_starts(layer, until) for layer in schedule.layers]

    def _turn_starts(self, layer: Layer, until: datetime) -> list[datetime] | None:
        if layer.turn not in ("daily", "weekly"):
            return None  # fixed turns are plain arithmetic
        days = 1 if layer.turn == "daily" else 7
        wall = layer.handoff.astimezone(self.zone).replace(tzinfo=None)
        starts, k = [layer.handoff], 1
        while starts[-1] <= until:
            starts.append(ref_resolve(wall + timedelta(days=k * days), self.zone))
            k += 1
        return starts

    def layer_user(self, index: int, at: datetime) -> str | None:
        layer = self.schedule.layers[index]
        if at < layer.handoff or (layer.end is not None and at >= layer.end):
            return None
        local = at.astimezone(self.zone)
        if layer.restrictions and not any(ref_in_restriction(r, local) for r in layer.restrictions):
            return None
        starts = self.starts[index]
        if starts is None:
            hours = 1 if layer.turn == "hourly" else layer.turn
            step_us = round(hours * 3600 * 1_000_000)
            k = ((at - layer.handoff) // US) // step_us
        else:
            k = bisect.bisect_right(starts, at) - 1
        return layer.users[k % len(layer.users)]

    def oncall(self, at: datetime) -> list[str]:
        for override in reversed(self.schedule.overrides):
            if override.start <= at < override.end:
                return [override.user_id]
        for index in reversed(range(len(self.schedule.layers))):
            user = self.layer_user(index, at)
            if user is not None:
                return [user]
        return []


def probe_points(shifts: list[Shift], start: datetime, end: datetime) -> list[datetime]:
    """Instants where errors show: each shift's first and last microsecond, and gaps."""
    chosen = shifts if len(shifts) <= 120 else shifts[:: len(shifts) // 120 + 1]
    points = {start, end - US}
    for shift in chosen:
        points.update((shift.start, shift.end - US, shift.end, shift.start - US))
    return sorted(p for p in points if start <= p < end)


def spread(start: datetime, end: datetime, fractions: list[float]) -> list[datetime]:
    """Instants at the given fractions of [start, end), kept inside it despite rounding."""
    return [min(start + (end - start) * f, end - US) for f in fractions]


def user_in(shifts: list[Shift], at: datetime) -> list[str]:
    index = bisect.bisect_right([s.start for s in shifts], at) - 1
    if index >= 0 and at < shifts[index].end:
        return [shifts[index].user_id]
    return []


# --- properties ---------------------------------------------------------------------


@SETTINGS
@given(schedules_and_ranges(), st.lists(st.floats(0, 1, exclude_max=True), max_size=25))
def test_shifts_agree_with_point_queries_and_the_reference(case, fractions):
    schedule, start, end = case
    shifts = final_shifts(schedule, start, end)
    reference = Reference(schedule, end)

    for shift in shifts:
        assert start <= shift.start < shift.end <= end
        assert shift.start.tzinfo is UTC and shift.end.tzinfo is UTC
    for before, after in itertools.pairwise(shifts):
        assert before.end <= after.start  # sorted, never overlapping
        if before.end == after.start:  # contiguous: merged unless something changed
            assert (before.user_id, before.source) != (after.user_id, after.source)

    points = probe_points(shifts, start, end) + spread(start, end, fractions)
    for at in points:
        expected = user_in(shifts, at)
        assert oncall_at(schedule, at) == expected, at
        assert reference.oncall(at) == expected, at


@SETTINGS
@given(schedules_and_ranges(), st.floats(0.05, 0.95))
def test_splitting_the_range_does_not_change_the_shifts(case, fraction):
    schedule, start, end = case
    middle = start + (end - start) * fraction
    whole = final_shifts(schedule, start, end)
    left, right = final_shifts(schedule, start, middle), final_shifts(schedule, middle, end)
    if left and right and left[-1].end == right[0].start == middle:
        a, b = left[-1], right[0]
        if (a.user_id, a.source) == (b.user_id, b.source):
            left[-1:] = []
            right[0] = Shift(a.user_id, a.start, b.end, a.source)
    assert whole == left + right


@SETTINGS
@given(schedules_and_ranges(), st.lists(st.floats(0, 1, exclude_max=True), max_size=10))
def test_layer_shifts_agree_with_the_layer_alone(case, fractions):
    schedule, start, end = case
    reference = Reference(schedule, end)
    for index, layer in enumerate(schedule.layers):
        shifts = layer_shifts(layer, schedule.time_zone, start, end)
        assert all(s.source == layer.name for s in shifts)
        points = probe_points(shifts, start, end) + spread(start, end, fractions)
        for at in points:
            expected = user_in(shifts, at)
            got = layer_user_at(layer, schedule.zone, at)
            assert ([] if got is None else [got]) == expected
            ref = reference.layer_user(index, at)
            assert ([] if ref is None else [ref]) == expected


@SETTINGS
@given(
    st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe"]),
    st.sampled_from(ANCHORS),
    st.integers(-20, 3),
    st.sampled_from(TRICKY_TIMES) | st.builds(time, st.integers(0, 23), st.integers(0, 59)),
    st.integers(0, 1),
    st.sampled_from(["daily", "weekly"]),
)
def test_wall_clock_turns_match_the_reference_across_dst(name, anchor, days, wall, fold, turn):
    zone = ZoneInfo(name)
    day = (anchor + timedelta(days=days)).astimezone(zone).date()
    handoff = datetime.combine(day, wall, tzinfo=zone).replace(fold=fold)
    layer = Layer("rota", ["a", "b", "c"], turn, handoff)
    end = anchor + timedelta(days=30)
    starts = [s.start for s in layer_shifts(layer, zone, layer.handoff, end)]
    expected = Reference(Schedule(name, [layer]), end).starts[0]
    assert expected is not None
    assert starts == [s for s in expected if s < end]


@settings(max_examples=80, deadline=None)
@given(schedules_and_ranges())
def test_next_change_is_the_first_change(case):
    schedule, start, end = case
    horizon = end - start
    change = next_change(schedule, start, horizon=horizon)
    now = oncall_at(schedule, start)
    stop = end if change is None else change
    assert change is None or start < change <= end
    # Nothing changes before `change` (or within the horizon when it is None)...
    shifts = final_shifts(schedule, start, stop)
    if now:
        assert [(s.user_id, s.start, s.end) for s in _merge_users(shifts)] == [
            (now[0], start, stop)
        ]
    else:
        assert shifts == []
    # ...and something does at `change`.
    if change is not None:
        assert oncall_at(schedule, change) != now


def _merge_users(shifts: list[Shift]) -> list[Shift]:
    merged: list[Shift] = []
    for shift in shifts:
        if merged and merged[-1].end == shift.start and merged[-1].user_id == shift.user_id:
            merged[-1] = Shift(shift.user_id, merged[-1].start, shift.end, "*")
        else:
            merged.append(shift)
    return merged
