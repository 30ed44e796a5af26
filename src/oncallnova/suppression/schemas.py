"""Request and response shapes of silences and maintenance windows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from oncallnova.core.validation import to_utc, within_calendar
from oncallnova.suppression import matchers
from oncallnova.users.schemas import check_zone

Op = Literal["=", "!=", "=~", "!~"]
SilenceStatus = Literal["pending", "active", "expired"]
WindowStatus = Literal["scheduled", "active", "ended"]
Recurrence = Literal["daily", "weekly"]
# An instant in UTC that every time zone can show (and a recurrence can step from).
Instant = Annotated[datetime, AfterValidator(to_utc), AfterValidator(within_calendar)]


class MatcherIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256, description="A label name.")
    op: Op = Field(
        default="=",
        description="=: equal; !=: not equal; =~: the whole value matches the regular "
        "expression; !~: it does not. A label the alert lacks reads as empty.",
    )
    value: str = Field(max_length=1024)

    @field_validator("value")
    @classmethod
    def _compiles(cls, value: str, info: ValidationInfo) -> str:
        op = info.data.get("op")
        if op in ("=~", "!~"):
            matchers.Matcher.of("", op, value)  # a ValueError names the problem
        return value


class HistoryEntry(BaseModel):
    """One change: who made it, when, and why."""

    at: datetime
    actor: str
    action: str = Field(description="created, updated, ended, expired, started, removed")
    reason: str | None = None
    changes: list[str] = Field(default_factory=list, description="The fields it changed.")


def _check_matchers(items: list[MatcherIn] | None) -> list[MatcherIn] | None:
    if items is not None and matchers.matches_everything(
        matchers.compile_all(m.model_dump() for m in items)
    ):
        raise ValueError(
            "at least one matcher must not match an empty label value, or the silence would "
            "silence every alert (use a maintenance window to quiet a whole service)"
        )
    return items


def _check_range(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValueError("ends_at must be after starts_at")


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[MatcherIn] = Field(
        min_length=1, max_length=50, description="All must match an alert (AND)."
    )
    starts_at: Instant | None = Field(default=None, description="Default: now.")
    ends_at: Instant
    service_id: str | None = Field(
        default=None, description="Only alerts of this service; default: every service."
    )
    comment: str = Field(min_length=1, max_length=10_000, description="Why (required).")

    _matchers = field_validator("matchers")(_check_matchers)

    @model_validator(mode="after")
    def _range(self) -> SilenceIn:
        _check_range(self.starts_at, self.ends_at)
        return self


class SilencePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[MatcherIn] | None = Field(default=None, min_length=1, max_length=50)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    service_id: str | None = None
    comment: str | None = Field(default=None, min_length=1, max_length=10_000)
    reason: str | None = Field(
        default=None, max_length=10_000, description="Why it changes (kept in its history)."
    )

    _matchers = field_validator("matchers")(_check_matchers)

    @model_validator(mode="after")
    def _range(self) -> SilencePatch:
        _check_range(self.starts_at, self.ends_at)
        return self


class MatcherOut(BaseModel):
    name: str
    op: Op
    value: str


class SilenceOut(BaseModel):
    id: str
    matchers: list[MatcherOut]
    starts_at: datetime
    ends_at: datetime
    service_id: str | None
    service_name: str | None = None
    comment: str
    status: SilenceStatus = Field(description="pending (not started), active, or expired.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    history: list[HistoryEntry]


class SilenceDraft(BaseModel):
    """A silence filled in from an incident, to review and create."""

    matchers: list[MatcherOut]
    starts_at: datetime
    ends_at: datetime
    service_id: str | None
    comment: str
    incident_id: str


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_ids: list[str] = Field(min_length=1, max_length=500)
    starts_at: Instant | None = Field(default=None, description="Default: now.")
    ends_at: Instant
    description: str = Field(min_length=1, max_length=10_000, description="Why (required).")
    recurrence: Recurrence | None = Field(
        default=None,
        description="daily or weekly: when it ends it is scheduled again a day or a week "
        "later, at the same wall-clock time in `time_zone`.",
    )
    time_zone: str = Field(default="UTC", max_length=64)

    _zone = field_validator("time_zone")(check_zone)

    @model_validator(mode="after")
    def _range(self) -> WindowIn:
        _check_range(self.starts_at, self.ends_at)
        return self


class WindowPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_ids: list[str] | None = Field(default=None, min_length=1, max_length=500)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    description: str | None = Field(default=None, min_length=1, max_length=10_000)
    recurrence: Recurrence | None = None
    time_zone: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(
        default=None, max_length=10_000, description="Why it changes (kept in its history)."
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @model_validator(mode="after")
    def _range(self) -> WindowPatch:
        _check_range(self.starts_at, self.ends_at)
        return self


class WindowOut(BaseModel):
    id: str
    service_ids: list[str]
    service_names: list[str] = Field(default_factory=list)
    starts_at: datetime
    ends_at: datetime
    description: str
    recurrence: Recurrence | None
    time_zone: str
    status: WindowStatus = Field(description="scheduled (not started), active, or ended.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    history: list[HistoryEntry]


class SilenceList(BaseModel):
    items: list[SilenceOut]


class WindowList(BaseModel):
    items: list[WindowOut]
