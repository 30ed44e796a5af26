"""The schedule model: plain frozen dataclasses that validate themselves on construction.

Every instant is a timezone-aware `datetime`; constructors convert them to UTC, so the
rest of the package only ever compares UTC instants. Local wall-clock meaning (turn
handoffs, restriction windows) always comes from the schedule's time zone, never from
the `tzinfo` a caller happened to attach to a datetime.

Validation lives in small helpers (`validate_time_zone`, `parse_clock`, `validate_turn`,
`validate_users`, `require_aware`) so that schemas at the edges can reuse them; each
raises `ValueError` with a message that names the offending field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: "hourly", "daily", "weekly", or a positive number of hours. Hourly and N-hour turns
#: are fixed elapsed durations; daily and weekly turns follow the local wall clock.
Turn = Literal["hourly", "daily", "weekly"] | int | float
NAMED_TURNS = ("hourly", "daily", "weekly")
OVERRIDE_SOURCE = "override"
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def validate_time_zone(name: str) -> ZoneInfo:
    """The `ZoneInfo` for an IANA name such as "Europe/Paris"; ValueError if unknown."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("time_zone: must be an IANA time zone name such as 'Europe/Paris'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # A region such as "Europe" is a directory of the zone database: OSError.
        raise ValueError(f"time_zone: unknown time zone {name!r}") from exc


def parse_clock(value: str, what: str = "time") -> time:
    """Parse a local wall-clock time written "HH:MM" (00:00 to 23:59)."""
    if not isinstance(value, str) or _CLOCK.fullmatch(value) is None:
        raise ValueError(f"{what}: expected a time 'HH:MM' between 00:00 and 23:59, got {value!r}")
    return time(int(value[:2]), int(value[3:]))


def parse_day(value: int | str, what: str = "day") -> int:
    """A weekday as 0 (Monday) to 6 (Sunday); also accepts names such as "mon" or "Monday"."""
    if isinstance(value, str):
        key = value.strip().lower()
        for number, day in enumerate(DAY_NAMES):
            if len(key) >= 3 and day.startswith(key):
                return number
        raise ValueError(f"{what}: unknown weekday {value!r}")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValueError(f"{what}: expected a weekday 0 (Monday) to 6 (Sunday), got {value!r}")
    return value


def validate_turn(turn: Turn) -> Turn:
    """Check a turn length: one of "hourly", "daily", "weekly", or a number of hours > 0."""
    if isinstance(turn, str):
        if turn not in NAMED_TURNS:
            raise ValueError(f"turn: expected hourly, daily, weekly or hours, got {turn!r}")
        return turn
    if isinstance(turn, bool) or not isinstance(turn, int | float):
        raise ValueError(f"turn: expected hourly, daily, weekly or hours, got {turn!r}")
    if not turn > 0:  # also rejects NaN
        raise ValueError(f"turn: a number of hours must be > 0, got {turn!r}")
    if turn * 3600 * 1_000_000 < 1 or turn > 24 * 366 * 100:
        raise ValueError(f"turn: {turn!r} hours is out of range")
    return turn


def validate_users(users: Sequence[str], what: str = "users") -> tuple[str, ...]:
    """A non-empty tuple of non-empty user ids."""
    if isinstance(users, str):
        raise ValueError(f"{what}: expected a list of user ids, not a single string")
    result = tuple(users)
    if not result:
        raise ValueError(f"{what}: a layer needs at least one user")
    for user in result:
        if not isinstance(user, str) or not user:
            raise ValueError(f"{what}: user ids must be non-empty strings, got {user!r}")
    return result


def require_aware(value: datetime, what: str) -> datetime:
    """The same instant in UTC; ValueError for a naive datetime or a non-datetime."""
    if not isinstance(value, datetime):
        raise ValueError(f"{what}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}: must be timezone-aware (naive datetimes are ambiguous)")
    return value.astimezone(UTC)


def _set(obj: object, name: str, value: object) -> None:
    # Frozen dataclasses normalize their own fields once, in __post_init__.
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Restriction:
    """A window of local wall-clock time during which a layer may have someone on call.

    Without days, the window repeats every day from `start` to `end`; an `end` earlier
    than `start` wraps past midnight ("22:00" to "06:00"). With `start_day` and
    `end_day` (0 = Monday), it repeats every week from start_day at start to end_day at
    end, wrapping past Sunday when needed. An instant is inside the window when its
    local wall-clock time in the schedule's zone is, so a window edge that falls in a
    DST gap takes effect at the moment of the jump, and a window whose times are repeated
    when clocks go back covers both occurrences.
    """

    start: str
    end: str
    start_day: int | None = None
    end_day: int | None = None

    def __post_init__(self) -> None:
        start = parse_clock(self.start, "restriction start")
        end = parse_clock(self.end, "restriction end")
        if (self.start_day is None) != (self.end_day is None):
            raise ValueError("restriction: give both start_day and end_day, or neither")
        if self.start_day is None:
            if start == end:
                raise ValueError(
                    "restriction: start equals end, so the window is empty; "
                    "omit restrictions to cover the whole day"
                )
            return
        assert self.end_day is not None
        start_day = parse_day(self.start_day, "restriction start_day")
        end_day = parse_day(self.end_day, "restriction end_day")
        if start_day == end_day and start == end:
            raise ValueError(
                "restriction: start equals end, so the window is empty; "
                "omit restrictions to cover the whole week"
            )
        _set(self, "start_day", start_day)
        _set(self, "end_day", end_day)

    @classmethod
    def time_of_day(cls, start: str, end: str) -> Restriction:
        """Every day from start to end ("HH:MM"); end < start wraps past midnight."""
        return cls(start, end)

    @classmethod
    def weekly(cls, start_day: int | str, start: str, end_day: int | str, end: str) -> Restriction:
        """Every week from start_day at start to end_day at end (days 0-6 or names)."""
        return cls(start, end, parse_day(start_day, "start_day"), parse_day(end_day, "end_day"))

    @property
    def start_time(self) -> time:
        return parse_clock(self.start)

    @property
    def end_time(self) -> time:
        return parse_clock(self.end)


@dataclass(frozen=True)
class Layer:
    """One rotation: `users` take turns of length `turn`, the first one from `handoff`."""

    name: str
    users: Sequence[str]
    turn: Turn
    handoff: datetime
    restrictions: Sequence[Restriction] = ()
    end: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("layer name: must be a non-empty string")
        _set(self, "users", validate_users(self.users, f"layer {self.name!r} users"))
        validate_turn(self.turn)
        _set(self, "handoff", require_aware(self.handoff, f"layer {self.name!r} handoff"))
        restrictions = tuple(self.restrictions)
        for item in restrictions:
            if not isinstance(item, Restriction):
                raise ValueError(f"layer {self.name!r} restrictions: expected Restriction items")
        _set(self, "restrictions", restrictions)
        if self.end is not None:
            end = require_aware(self.end, f"layer {self.name!r} end")
            if end <= self.handoff:
                raise ValueError(f"layer {self.name!r} end: must be after the handoff")
            _set(self, "end", end)


@dataclass(frozen=True)
class Override:
    """`user_id` is on call from `start` to `end`, above every layer."""

    user_id: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, str) or not self.user_id:
            raise ValueError("override user_id: must be a non-empty string")
        _set(self, "start", require_aware(self.start, "override start"))
        _set(self, "end", require_aware(self.end, "override end"))
        if self.end <= self.start:
            raise ValueError("override end: must be after its start")


@dataclass(frozen=True)
class Schedule:
    """Layers ordered lowest to highest, then overrides (a later override wins a tie)."""

    time_zone: str
    layers: Sequence[Layer] = ()
    overrides: Sequence[Override] = field(default=())

    def __post_init__(self) -> None:
        validate_time_zone(self.time_zone)
        layers = tuple(self.layers)
        overrides = tuple(self.overrides)
        names: set[str] = set()
        for layer in layers:
            if not isinstance(layer, Layer):
                raise ValueError("schedule layers: expected Layer items")
            if layer.name in names:
                raise ValueError(f"schedule layers: duplicate layer name {layer.name!r}")
            if layer.name == OVERRIDE_SOURCE:
                raise ValueError(f"schedule layers: {OVERRIDE_SOURCE!r} is a reserved name")
            names.add(layer.name)
        for override in overrides:
            if not isinstance(override, Override):
                raise ValueError("schedule overrides: expected Override items")
        _set(self, "layers", layers)
        _set(self, "overrides", overrides)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Shift:
    """`user_id` is on call over [start, end) because of `source` (a layer name or "override")."""

    user_id: str
    start: datetime
    end: datetime
    source: str
