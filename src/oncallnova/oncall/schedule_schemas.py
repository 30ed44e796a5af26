"""Request and response shapes of schedules (the math is in `logic`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oncallnova.core.validation import ZonedDatetime
from oncallnova.oncall import logic

ZONED = (
    "An instant with an offset (kept as given), or a wall-clock time without one, read in "
    "the schedule's time zone."
)


def in_zone(value: datetime, zone: ZoneInfo) -> datetime:
    """`value` if it has an offset; else its wall-clock reading in `zone`, with that
    zone's offset. A time skipped or repeated by a clock change is resolved as rotations
    resolve one (see `rotation`), so a handoff and its turns agree."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    return logic.resolve_local(value.date(), value.time(), zone).astimezone(zone)


class RestrictionIn(BaseModel):
    """Time of day ("HH:MM" to "HH:MM", every day), or with days a weekly window."""

    model_config = ConfigDict(extra="forbid")

    start: str
    end: str
    start_day: int | str | None = None
    end_day: int | str | None = None

    @model_validator(mode="after")
    def _valid(self) -> RestrictionIn:
        self.to_logic()
        return self

    def to_logic(self) -> logic.Restriction:
        if self.start_day is None or self.end_day is None:
            return logic.Restriction(self.start, self.end, None, None)
        return logic.Restriction.weekly(self.start_day, self.start, self.end_day, self.end)


class LayerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    users: list[str] = Field(min_length=1, max_length=200, description="User ids, in turn order.")
    turn: Literal["hourly", "daily", "weekly"] | float = Field(
        description="hourly, daily, weekly, or a number of hours."
    )
    handoff: ZonedDatetime = Field(description=f"When the first user's first turn starts. {ZONED}")
    restrictions: list[RestrictionIn] = Field(default_factory=list, max_length=50)
    end: ZonedDatetime | None = Field(default=None, description=f"When the layer stops. {ZONED}")

    def in_zone(self, zone: ZoneInfo) -> LayerIn:
        """This layer with its times as instants (see `in_zone`); stored in this form."""
        end = None if self.end is None else in_zone(self.end, zone)
        return self.model_copy(update={"handoff": in_zone(self.handoff, zone), "end": end})

    @field_validator("turn")
    @classmethod
    def _turn(cls, value: str | float) -> str | float:
        logic.validate_turn(value)  # type: ignore[arg-type]
        return value


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    time_zone: str = "UTC"
    layers: list[LayerIn] = Field(
        default_factory=list, max_length=20, description="Lowest first; a higher layer wins."
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        logic.validate_time_zone(value)
        return value


class SchedulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    time_zone: str | None = None
    layers: list[LayerIn] | None = Field(default=None, max_length=20)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            logic.validate_time_zone(value)
        return value


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str
    start: ZonedDatetime = Field(description=ZONED)
    end: ZonedDatetime = Field(description=ZONED)

    def in_zone(self, zone: ZoneInfo) -> OverrideIn:
        """This override with its times as instants (see `in_zone`); stored in this form."""
        return self.model_copy(
            update={"start": in_zone(self.start, zone), "end": in_zone(self.end, zone)}
        )


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    start: datetime
    end: datetime
    created_at: datetime


class ScheduleOut(BaseModel):
    id: str
    name: str
    description: str | None
    time_zone: str
    layers: list[LayerIn]
    overrides: list[OverrideOut]
    ical_url: str | None = Field(
        description="Secret iCalendar feed URL (null for viewers); rotate the token to revoke it."
    )
    created_at: datetime
    updated_at: datetime


class ScheduleList(BaseModel):
    items: list[ScheduleOut]


class ShiftOut(BaseModel):
    user_id: str
    user_name: str | None = None
    start: datetime
    end: datetime
    source: str


class OnCallAt(BaseModel):
    schedule_id: str
    at: datetime
    users: list[ShiftOut] = Field(description="Who is on call, with the shift that covers `at`.")


class ShiftList(BaseModel):
    schedule_id: str
    start: datetime
    end: datetime
    shifts: list[ShiftOut]


class OnCallEntry(BaseModel):
    id: str
    name: str
    user_ids: list[str]
    user_names: list[str]


@dataclass(frozen=True)
class ServiceOnCall:
    """One service now: its policy, the schedules its first level pages, and whom that
    level pages (users named directly and whoever those schedules have on call)."""

    id: str
    name: str
    team_id: str | None
    policy_id: str | None
    policy_name: str | None
    schedule_ids: tuple[str, ...]
    user_ids: tuple[str, ...]
    user_names: tuple[str, ...]

    def entry(self) -> OnCallEntry:
        return OnCallEntry(
            id=self.id,
            name=self.name,
            user_ids=list(self.user_ids),
            user_names=list(self.user_names),
        )


class OnCallNow(BaseModel):
    at: datetime
    schedules: list[OnCallEntry]
    services: list[OnCallEntry] = Field(
        description="Per service: who its escalation policy's first level pages now."
    )
