"""Request and response shapes of escalation policies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["user", "schedule"]
    id: str = Field(min_length=1, max_length=36)


class LevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: list[TargetIn] = Field(min_length=1, max_length=50)
    delay_seconds: int | None = Field(
        default=None,
        ge=0,
        le=7 * 86400,
        description="Wait before the next level; default ESCALATION_TIMEOUT_SECONDS.",
    )


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    repeat: int = Field(default=0, ge=0, le=5, description="Times to run the levels again.")
    levels: list[LevelIn] = Field(min_length=1, max_length=20)


class PolicyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    repeat: int | None = Field(default=None, ge=0, le=5)
    levels: list[LevelIn] | None = Field(default=None, min_length=1, max_length=20)


class TargetOut(BaseModel):
    type: Literal["user", "schedule"]
    id: str


class LevelOut(BaseModel):
    targets: list[TargetOut]
    delay_seconds: int


class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str | None
    repeat: int
    levels: list[LevelOut]
    created_at: datetime
    updated_at: datetime


class PolicyList(BaseModel):
    items: list[PolicyOut]
