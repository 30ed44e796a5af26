"""Layering: who is on call at an instant and over a range, from layers and overrides.

A layer has someone when the instant is at or after its handoff, before its end, inside
one of its restrictions (if it has any), and then it is the user of the turn containing
the instant. A higher layer covers a lower one wherever it has someone. An override
covers every layer; when overrides overlap, the one listed last wins, as the most
recently created override does in PagerDuty.

Ranges are computed by a sweep over boundaries (turn starts, restriction edges, override
edges), never minute by minute, so a few months of hourly turns cost a few thousand
steps.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo

from oncallnova.oncall.model import (
    OVERRIDE_SOURCE,
    Layer,
    Schedule,
    Shift,
    require_aware,
    validate_time_zone,
)
from oncallnova.oncall.restrictions import (
    Interval,
    OffsetPiece,
    allowed_at,
    offset_pieces,
    restriction_windows,
)
from oncallnova.oncall.rotation import Rotation, turn_intervals, user_for_turn

UserInterval = tuple[datetime, datetime, str]


class Segment(NamedTuple):
    """A stretch of [start, end) with one owner; `user` is None where nobody is on call."""

    start: datetime
    end: datetime
    user: str | None
    source: str | None


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else validate_time_zone(tz)


def _range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = require_aware(start, "start"), require_aware(end, "end")
    if end < start:
        raise ValueError("end: must not be before start")
    return start, end


def layer_user_at(layer: Layer, tz: ZoneInfo | str, at: datetime) -> str | None:
    """The user the layer alone puts on call at `at`, or None."""
    zone, at = _zone(tz), require_aware(at, "at")
    if at < layer.handoff or (layer.end is not None and at >= layer.end):
        return None
    if not allowed_at(tuple(layer.restrictions), zone, at):
        return None
    return user_for_turn(layer, Rotation.of(layer, zone).turn_index(at))


def _intersect(turns: list[UserInterval], windows: list[Interval]) -> list[UserInterval]:
    """The parts of each turn inside the (sorted, disjoint) windows."""
    result: list[UserInterval] = []
    first = 0
    for start, end, user in turns:
        while first < len(windows) and windows[first][1] <= start:
            first += 1
        index = first
        while index < len(windows) and windows[index][0] < end:
            lo, hi = max(start, windows[index][0]), min(end, windows[index][1])
            if lo < hi:
                result.append((lo, hi, user))
            index += 1
    return result


def _merge_users(intervals: list[UserInterval]) -> list[UserInterval]:
    merged: list[UserInterval] = []
    for start, end, user in intervals:
        if merged and merged[-1][1] == start and merged[-1][2] == user:
            merged[-1] = (merged[-1][0], end, user)
        else:
            merged.append((start, end, user))
    return merged


def _layer_intervals(
    layer: Layer, zone: ZoneInfo, start: datetime, end: datetime, pieces: list[OffsetPiece]
) -> list[UserInterval]:
    turns = turn_intervals(layer, Rotation.of(layer, zone), start, end)
    if layer.restrictions and turns:
        turns = _intersect(turns, restriction_windows(tuple(layer.restrictions), pieces))
    return _merge_users(turns)


def layer_shifts(layer: Layer, tz: ZoneInfo | str, start: datetime, end: datetime) -> list[Shift]:
    """The layer's own shifts over [start, end), as if it were alone in its schedule."""
    zone = _zone(tz)
    start, end = _range(start, end)
    pieces = offset_pieces(zone, start, end) if layer.restrictions else []
    return [
        Shift(user, lo, hi, layer.name)
        for lo, hi, user in _layer_intervals(layer, zone, start, end, pieces)
    ]


def _compose(
    sources: list[tuple[str, list[UserInterval]]], start: datetime, end: datetime
) -> list[Segment]:
    """Cover [start, end) with segments owned by the first source (highest first) present.

    Each source's intervals are sorted and disjoint. Contiguous segments with the same
    user and source are merged.
    """
    points = {start, end}
    for _, intervals in sources:
        for lo, hi, _user in intervals:
            points.update((lo, hi))
    ordered = sorted(p for p in points if start <= p <= end)
    cursors = [0] * len(sources)
    out: list[Segment] = []
    for lo, hi in pairwise(ordered):
        user: str | None = None
        source: str | None = None
        for number, (name, intervals) in enumerate(sources):
            cursor = cursors[number]
            while cursor < len(intervals) and intervals[cursor][1] <= lo:
                cursor += 1
            cursors[number] = cursor
            if cursor < len(intervals) and intervals[cursor][0] <= lo:
                user, source = intervals[cursor][2], name
                break
        last = out[-1] if out else None
        if last is not None and last.user == user and last.source == source:
            out[-1] = last._replace(end=hi)
        else:
            out.append(Segment(lo, hi, user, source))
    return out


def segments(schedule: Schedule, start: datetime, end: datetime) -> list[Segment]:
    """Every stretch of [start, end), including the ones where nobody is on call."""
    start, end = _range(start, end)
    if start == end:
        return []
    zone = schedule.zone
    overrides = [
        (OVERRIDE_SOURCE, [(max(o.start, start), min(o.end, end), o.user_id)])
        for o in reversed(schedule.overrides)
        if o.start < end and o.end > start
    ]
    # Overlapping overrides are flattened first (the last listed wins), so the main
    # sweep sees them as one source above the layers.
    flat = [
        (seg.start, seg.end, seg.user)
        for seg in _compose(overrides, start, end)
        if seg.user is not None
    ]
    pieces: list[OffsetPiece] = []
    if any(layer.restrictions for layer in schedule.layers):
        pieces = offset_pieces(zone, start, end)
    sources = [(OVERRIDE_SOURCE, flat)]
    for layer in reversed(schedule.layers):
        sources.append((layer.name, _layer_intervals(layer, zone, start, end, pieces)))
    return _compose(sources, start, end)


def final_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call over [start, end): merged shifts, clipped to the range, by start."""
    return [
        Shift(seg.user, seg.start, seg.end, seg.source)
        for seg in segments(schedule, start, end)
        if seg.user is not None and seg.source is not None
    ]


def shifts_overlapping(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final shifts that overlap [start, end): like `final_shifts`, except that the
    shift going on at `start` is given whole, from where it really began.

    A feed whose window moves with the clock uses this, so the shift across the window's
    start keeps its start (and what is derived from it, such as an iCalendar UID). The
    search looks back in doubling steps, at most to the earliest handoff or override,
    before which nobody is on call.
    """
    start, end = _range(start, end)
    beginnings = [layer.handoff for layer in schedule.layers]
    beginnings += [override.start for override in schedule.overrides]
    floor = min(beginnings, default=start)
    if floor >= start:
        return final_shifts(schedule, start, end)
    back = timedelta(days=2)
    while True:
        lo = start - min(back, start - floor)
        shifts = [s for s in final_shifts(schedule, lo, end) if s.end > start]
        if not shifts or shifts[0].start >= start or shifts[0].start > lo or lo == floor:
            return shifts
        back *= 2


def oncall_at(schedule: Schedule, at: datetime) -> list[str]:
    """The user(s) on call at `at`: an override's, else the highest layer's; [] if none."""
    at = require_aware(at, "at")
    for override in reversed(schedule.overrides):
        if override.start <= at < override.end:
            return [override.user_id]
    zone = schedule.zone
    for layer in reversed(schedule.layers):
        user = layer_user_at(layer, zone, at)
        if user is not None:
            return [user]
    return []


def next_change(
    schedule: Schedule, after: datetime, *, horizon: timedelta = timedelta(days=400)
) -> datetime | None:
    """The first instant after `after` at which `oncall_at` gives other users.

    Looks at most `horizon` ahead and returns None when nothing changes within it (a
    schedule can stay unchanged forever, so an unbounded search could not end). The
    search window doubles from two days, so the usual answer costs one small sweep.
    """
    after = require_aware(after, "after")
    current = oncall_at(schedule, after)
    limit = after + horizon
    cursor, window = after, timedelta(days=2)
    while cursor < limit:
        stop = min(cursor + window, limit)
        for seg in segments(schedule, cursor, stop):
            users = [] if seg.user is None else [seg.user]
            if users != current:
                return seg.start
        cursor, window = stop, window * 2
    return None
