"""Restriction windows: membership of one instant, and the windows over a range.

A restriction is a set of local wall-clock times (see `Restriction`). An instant is
inside when its wall-clock reading in the schedule's zone is inside, which gives one
answer for every instant even around DST changes: a window edge in a skipped hour takes
effect at the jump, and a window inside a repeated hour is covered twice.

To list windows over a range without stepping minute by minute, the range is cut where
the zone's UTC offset changes; inside each piece local time is UTC plus a constant, so
the windows of each local day (or week) map back to UTC by subtracting that constant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from oncallnova.oncall.model import Restriction

Interval = tuple[datetime, datetime]
OffsetPiece = tuple[datetime, datetime, timedelta]

_ONE_DAY = timedelta(days=1)
_ONE_US = timedelta(microseconds=1)
# Zones change offset at most a few times a year; probing every 6 hours finds every
# change unless a zone changed and changed back within 6 hours, which none does.
_PROBE = timedelta(hours=6)


def _since_midnight(at: time) -> timedelta:
    return timedelta(
        hours=at.hour, minutes=at.minute, seconds=at.second, microseconds=at.microsecond
    )


def _inside(point: timedelta, start: timedelta, end: timedelta) -> bool:
    if start < end:
        return start <= point < end
    return point >= start or point < end  # the window wraps


def restriction_contains(restriction: Restriction, local: datetime) -> bool:
    """Whether a local wall-clock reading falls inside the restriction window."""
    point = _since_midnight(local.time())
    start = _since_midnight(restriction.start_time)
    end = _since_midnight(restriction.end_time)
    if restriction.start_day is None or restriction.end_day is None:
        return _inside(point, start, end)
    point += local.weekday() * _ONE_DAY
    start += restriction.start_day * _ONE_DAY
    end += restriction.end_day * _ONE_DAY
    return _inside(point, start, end)


def allowed_at(restrictions: tuple[Restriction, ...], tz: ZoneInfo, at: datetime) -> bool:
    """True without restrictions; otherwise whether any window contains the instant."""
    if not restrictions:
        return True
    local = at.astimezone(tz)
    return any(restriction_contains(r, local) for r in restrictions)


def _offset(tz: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def offset_pieces(tz: ZoneInfo, start: datetime, end: datetime) -> list[OffsetPiece]:
    """Cut [start, end) into pieces where the zone's UTC offset is constant."""
    pieces: list[OffsetPiece] = []
    if start >= end:
        return pieces
    piece_start, current = start, _offset(tz, start)
    last = end - _ONE_US
    probe = start
    while probe < last:
        ahead = min(probe + _PROBE, last)
        if _offset(tz, ahead) == current:
            probe = ahead
            continue
        lo, hi = probe, ahead  # offset is `current` at lo and differs at hi
        while hi - lo > _ONE_US:
            mid = lo + (hi - lo) // 2
            if _offset(tz, mid) == current:
                lo = mid
            else:
                hi = mid
        pieces.append((piece_start, hi, current))
        piece_start, current, probe = hi, _offset(tz, hi), hi
    pieces.append((piece_start, end, current))
    return pieces


def _local_windows(restriction: Restriction, first: date, last: date) -> list[Interval]:
    """Naive local windows of the restriction that may reach into dates [first, last]."""
    start_time, end_time = restriction.start_time, restriction.end_time
    windows: list[Interval] = []
    if restriction.start_day is None or restriction.end_day is None:
        day = first - _ONE_DAY  # a window that wraps past midnight reaches the next day
        wrap = end_time <= start_time
        while day <= last:
            end_day = day + _ONE_DAY if wrap else day
            windows.append((datetime.combine(day, start_time), datetime.combine(end_day, end_time)))
            day += _ONE_DAY
        return windows
    day = first - 7 * _ONE_DAY  # a weekly window can last almost a week
    day += timedelta(days=(restriction.start_day - day.weekday()) % 7)
    span = timedelta(days=(restriction.end_day - restriction.start_day) % 7)
    while day <= last:
        window_start = datetime.combine(day, start_time)
        window_end = datetime.combine(day + span, end_time)
        if window_end <= window_start:
            window_end += 7 * _ONE_DAY
        windows.append((window_start, window_end))
        day += 7 * _ONE_DAY
    return windows


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching intervals become one."""
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def restriction_windows(
    restrictions: tuple[Restriction, ...],
    pieces: list[OffsetPiece],
) -> list[Interval]:
    """UTC instants inside any restriction, over the range the offset pieces cover."""
    found: list[Interval] = []
    for piece_start, piece_end, offset in pieces:
        # Naive local readings of this piece are UTC readings plus the offset.
        local_lo = piece_start.replace(tzinfo=None) + offset
        local_hi = piece_end.replace(tzinfo=None) + offset
        for restriction in restrictions:
            for lo, hi in _local_windows(restriction, local_lo.date(), local_hi.date()):
                lo, hi = max(lo, local_lo), min(hi, local_hi)
                if lo < hi:
                    found.append(
                        ((lo - offset).replace(tzinfo=UTC), (hi - offset).replace(tzinfo=UTC))
                    )
    return merge_intervals(found)
