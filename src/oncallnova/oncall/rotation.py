"""Turn arithmetic: which turn of a layer's rotation contains an instant, and its bounds.

Hourly and N-hour turns are fixed elapsed durations: turn k starts at
`handoff + k * length`, whatever the clocks do.

Daily and weekly turns follow the schedule's wall clock: turn k (k >= 1) starts on the
local date `handoff_date + k days` (or weeks) at the handoff's local time of day, so a
daily 09:00 handoff stays at 09:00 local across DST changes and such a turn lasts 23 or
25 hours. Turn 0 starts exactly at the handoff instant.

Local times that do not exist or exist twice are resolved like PEP 495 `fold=0` and
then normalized through UTC:
- a time skipped when clocks go forward is read with the offset in force *before* the
  jump, so it lands as far after the jump as it was after the old clock's hour
  (02:30 on 2026-03-29 in Europe/Paris is 01:30 UTC, i.e. 03:30 CEST);
- a time repeated when clocks go back means its *first* occurrence
  (02:30 on 2026-10-25 in Europe/Paris is 00:30 UTC, i.e. 02:30 CEST).

The handoff itself is an instant, and the rotation's time of day is that instant's
reading in the schedule's zone. A handoff built from a skipped local time (02:30 on the
day clocks go forward) is already 03:30 by then, so that rotation turns at 03:30; give
the first handoff on an ordinary day to rotate at 02:30.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from oncallnova.oncall.model import Layer

_ONE_DAY = timedelta(days=1)


def resolve_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time, resolved as the module docstring says."""
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


@dataclass(frozen=True)
class Rotation:
    """The turn boundaries of one layer in one time zone, computed on demand."""

    handoff: datetime
    step: timedelta
    wall_clock: bool
    local_date: date
    local_time: time
    tz: ZoneInfo

    @classmethod
    def of(cls, layer: Layer, tz: ZoneInfo) -> Rotation:
        turn = layer.turn
        if turn == "daily":
            step, wall_clock = _ONE_DAY, True
        elif turn == "weekly":
            step, wall_clock = 7 * _ONE_DAY, True
        elif turn == "hourly":
            step, wall_clock = timedelta(hours=1), False
        else:
            assert not isinstance(turn, str)
            step, wall_clock = timedelta(hours=turn), False
        local = layer.handoff.astimezone(tz)
        return cls(
            handoff=layer.handoff,
            step=step,
            wall_clock=wall_clock,
            local_date=local.date(),
            local_time=local.time().replace(tzinfo=None),
            tz=tz,
        )

    def turn_start(self, k: int) -> datetime:
        """When turn k starts (k >= 0)."""
        if k <= 0:
            return self.handoff
        if not self.wall_clock:
            return self.handoff + k * self.step
        return resolve_local(self.local_date + k * self.step, self.local_time, self.tz)

    def turn_index(self, at: datetime) -> int:
        """The k with turn_start(k) <= at < turn_start(k + 1); -1 before the handoff."""
        if at < self.handoff:
            return -1
        if not self.wall_clock:
            return (at - self.handoff) // self.step
        elapsed_days = (at.astimezone(self.tz).date() - self.local_date).days
        k = max(0, elapsed_days // self.step.days)
        # The estimate from local dates is off by at most one turn; DST shifts and
        # turn starts at odd hours are settled by comparing real instants.
        while k > 0 and self.turn_start(k) > at:
            k -= 1
        while self.turn_start(k + 1) <= at:
            k += 1
        return k


def user_for_turn(layer: Layer, k: int) -> str:
    return layer.users[k % len(layer.users)]


def turn_intervals(
    layer: Layer, rotation: Rotation, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str]]:
    """The layer's turns over [start, end), clipped, ignoring restrictions.

    Nothing before the handoff or after the layer's end; turns of zero length (only
    possible when a zone skips a whole day) are dropped.
    """
    lo = max(start, layer.handoff)
    hi = end if layer.end is None else min(end, layer.end)
    result: list[tuple[datetime, datetime, str]] = []
    if lo >= hi:
        return result
    k = rotation.turn_index(lo)
    turn_begin = rotation.turn_start(k)
    while turn_begin < hi:
        turn_end = rotation.turn_start(k + 1)
        seg_start, seg_end = max(turn_begin, lo), min(turn_end, hi)
        if seg_start < seg_end:
            result.append((seg_start, seg_end, user_for_turn(layer, k)))
        k += 1
        turn_begin = turn_end
    return result
