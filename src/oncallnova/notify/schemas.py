"""Request and response shapes of webhooks and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EventType = Literal[
    "incident.new",
    "incident.acknowledged",
    "incident.resolved",
    "incident.escalated",
    "incident.reassigned",
    "incident.annotated",
    "incident.severity_raised",
    "incident.unacknowledged",
]
ALL_EVENTS: list[str] = list(EventType.__args__)  # type: ignore[attr-defined]
WebhookFormat = Literal["oncallnova", "slack", "mattermost", "teams"]
FORMAT_DESCRIPTION = (
    "The body sent: `oncallnova` (signed event JSON, the default), `slack` (a Block Kit "
    "message for a Slack incoming webhook), `mattermost` (a Mattermost incoming webhook "
    "message with an attachment) or `teams` (an Adaptive Card for a Microsoft Teams "
    "Workflows webhook)."
)
RESERVED_HEADERS = {
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "x-oncallnova-signature",
    "x-oncallnova-delivery",
    "x-oncallnova-event",
}


def _check_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1]) < 1:
        raise ValueError("must be an http:// or https:// URL")
    return value


def _check_headers(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    for name, header_value in value.items():
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header '{name}' is set by OnCallNova and cannot be overridden")
        if not name or any(c in name for c in " :\r\n") or any(c in header_value for c in "\r\n"):
            raise ValueError(f"header '{name}' is not a valid HTTP header")
    return value


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="webhook", min_length=1, max_length=200)
    url: str = Field(max_length=2048)
    events: list[EventType] = Field(default_factory=lambda: list(ALL_EVENTS), min_length=1)
    service_ids: list[str] = Field(default_factory=list, description="Empty: every service.")
    enabled: bool = True
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)
    format: WebhookFormat = Field(default="oncallnova", description=FORMAT_DESCRIPTION)

    _url = field_validator("url")(_check_url)
    _headers = field_validator("headers")(_check_headers)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2048)
    events: list[EventType] | None = Field(default=None, min_length=1)
    service_ids: list[str] | None = None
    enabled: bool | None = None
    headers: dict[str, str] | None = Field(default=None, max_length=20)
    format: WebhookFormat | None = Field(default=None, description=FORMAT_DESCRIPTION)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    _headers = field_validator("headers")(_check_headers)


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    url: str
    events: list[str]
    service_ids: list[str]
    enabled: bool
    headers: dict[str, str]
    format: WebhookFormat = "oncallnova"
    previous_secret_until: datetime | None = Field(
        default=None, description="Until when the secret before the last rotation still signs."
    )
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="Shown once: store it to verify signatures.")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        default=86_400, ge=0, le=30 * 86_400, description="How long the old secret keeps signing."
    )


class DeliveryOut(BaseModel):
    delivery_id: str
    event_type: str | None
    incident_id: str | None
    attempt: int
    started_at: datetime
    duration_ms: float
    outcome: Literal["sent", "retry", "failed"]
    status_code: int | None
    error: str | None
    delivery_status: str


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


class TestQueued(BaseModel):
    delivery_id: str


class PageOut(BaseModel):
    """A page sent (or to be sent) about an incident."""

    user_id: str
    kind: str
    step: int
    level: int = Field(description="The escalation level paged, counting from 1.")
    round: int
    reason: str
    status: str = Field(
        description="sent (a notification reached them), pending, failed, or stopped (the "
        "incident was acknowledged before any notification went out)."
    )
    created_at: datetime
    notified: list[str] = Field(
        default_factory=list, description="The kinds of contact method notified so far."
    )
    rules_stopped_at: datetime | None = Field(
        default=None, description="When an acknowledgement stopped the user's notification rules."
    )
