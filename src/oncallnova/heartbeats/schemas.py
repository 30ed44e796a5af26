"""Request and response shapes of heartbeat monitors."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["critical", "high", "medium", "low"]
State = Literal["inactive", "up", "expired"]
MIN_INTERVAL, MAX_INTERVAL = 60, 30 * 86400  # one minute to thirty days


def _name(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value.strip() if value is not None else None


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_id: str = Field(description="The service whose alert its expiry opens.")
    name: str = Field(min_length=1, max_length=200, description="Unique within the service.")
    interval_seconds: int = Field(
        ge=MIN_INTERVAL,
        le=MAX_INTERVAL,
        description="A beat must come within this many seconds of the last (60 to 2592000).",
    )
    severity: Severity = Field(default="critical", description="Of the alert an expiry opens.")

    _strip = field_validator("name")(_name)


class MonitorPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    interval_seconds: int | None = Field(default=None, ge=MIN_INTERVAL, le=MAX_INTERVAL)
    severity: Severity | None = None

    _strip = field_validator("name")(_name)


class MonitorOut(BaseModel):
    id: str
    service_id: str
    service_name: str | None = None
    name: str
    interval_seconds: int
    severity: Severity
    state: State = Field(
        description="inactive: no beat yet (it cannot expire); up: beating; expired: no "
        "beat within the interval, its alert is open."
    )
    last_beat_at: datetime | None
    expires_at: datetime | None = Field(description="When it expires without another beat.")
    expired_at: datetime | None = Field(description="When it last expired.")
    token: str | None = Field(
        description="The secret of its beat URL; shown, as integration keys are, to admins "
        "and to responders of the service's team, null to others."
    )
    url: str | None = Field(
        description="POST or GET it to beat (no other credential); null when `token` is."
    )
    created_at: datetime
    updated_at: datetime


class BeatOut(BaseModel):
    status: Literal["ok"] = "ok"
    monitor: str = Field(description="The monitor's name.")
    state: State
    expires_at: datetime = Field(description="The next beat is due before this.")
    resolved: bool = Field(description="Whether this beat resolved the expiry's alert.")


class MonitorList(BaseModel):
    items: list[MonitorOut]
