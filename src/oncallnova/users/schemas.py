"""Request and response shapes of users and teams."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oncallnova.users.contact_schemas import ContactMethodIn, ContactMethodPublic, check_email

Role = Literal["admin", "responder", "viewer"]


def check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Europe" is a directory
        raise ValueError(
            f"unknown time zone '{value}' (use an IANA name like Europe/Paris)"
        ) from exc
    return value


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320)
    time_zone: str = "UTC"
    role: Role = "responder"
    contact_methods: list[ContactMethodIn] | None = Field(
        default=None,
        max_length=20,
        description="Where pages go; defaults to one email method at the user's email.",
    )

    _email = field_validator("email")(check_email)
    _zone = field_validator("time_zone")(check_zone)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    time_zone: str | None = None
    role: Role | None = None
    contact_methods: list[ContactMethodIn] | None = Field(
        default=None,
        max_length=20,
        description="Replaces every contact method; those equal to one kept keep their id "
        "(and the rules and reminders that use them).",
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else check_email(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    email: str
    time_zone: str
    role: Role
    contact_methods: list[ContactMethodPublic]
    created_at: datetime
    updated_at: datetime


class UserList(BaseModel):
    items: list[UserOut]


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    member_ids: list[str] = Field(default_factory=list, max_length=1000)


class TeamPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    member_ids: list[str] | None = Field(default=None, max_length=1000)


class TeamOut(BaseModel):
    id: str
    name: str
    description: str | None
    members: list[UserOut]
    created_at: datetime


class TeamList(BaseModel):
    items: list[TeamOut]
