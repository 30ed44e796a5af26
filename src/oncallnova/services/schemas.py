"""Request and response shapes of the service catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

BUILTIN_KEY_FIELDS = ("service", "severity", "source", "title")
AckTimeout = Annotated[
    int | None,
    Field(
        ge=1,
        le=30 * 86400,
        description="An incident acknowledged and not resolved within this many seconds "
        "goes back to triggered and is paged again from level 1. null: never.",
    ),
]
AutoResolve = Annotated[
    int | None,
    Field(
        ge=1,
        le=365 * 86400,
        description="An open incident with no new alert for this many seconds resolves "
        "itself. null: never.",
    ),
]


def _check_correlation_key(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if not value:
        raise ValueError("must name at least one field, e.g. ['service', 'severity']")
    seen: set[str] = set()
    for item in value:
        name = item.strip()
        if not name:
            raise ValueError("field names must not be empty")
        if name.startswith("labels.") and len(name) == len("labels."):
            raise ValueError("'labels.' must be followed by a label name")
        if name not in BUILTIN_KEY_FIELDS and not name.startswith("labels."):
            # A typo must not quietly group every alert under one empty value.
            raise ValueError(
                f"'{name}' is not a field alerts have: use 'service', 'severity', 'source', "
                f"'title' or 'labels.<name>' (a label: 'labels.{name}')"
            )
        if name in seen:
            raise ValueError(f"'{name}' is listed twice")
        seen.add(name)
    return [item.strip() for item in value]


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    correlation_key: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Fields whose values group alerts into one incident: 'service', "
        "'severity', 'source', 'title', or a label as 'labels.<name>'; any other name is "
        "refused. Default ['service', 'severity'].",
    )
    correlation_window_seconds: int | None = Field(default=None, ge=0, le=30 * 86400)
    team_id: str | None = None
    escalation_policy_id: str | None = None
    ack_timeout_seconds: AckTimeout = None
    auto_resolve_seconds: AutoResolve = None

    _key = field_validator("correlation_key")(_check_correlation_key)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class ServicePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    correlation_key: list[str] | None = Field(default=None, max_length=20)
    correlation_window_seconds: int | None = Field(default=None, ge=0, le=30 * 86400)
    team_id: str | None = None
    escalation_policy_id: str | None = None
    ack_timeout_seconds: AckTimeout = None
    auto_resolve_seconds: AutoResolve = None

    _key = field_validator("correlation_key")(_check_correlation_key)


class IntegrationKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="default", min_length=1, max_length=200)


class IntegrationKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    key: str | None = Field(
        description="The secret that sends alerts to the service; null for those who may "
        "not use it (viewers, and responders outside the service's team)."
    )
    created_at: datetime
    revoked_at: datetime | None


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str | None
    correlation_key: list[str]
    correlation_window_seconds: int
    team_id: str | None
    escalation_policy_id: str | None
    ack_timeout_seconds: int | None = None
    auto_resolve_seconds: int | None = None
    created_at: datetime
    updated_at: datetime
    integration_keys: list[IntegrationKeyOut] = []


class ServiceList(BaseModel):
    items: list[ServiceOut]
