"""PagerDuty Events API v2 (`POST /v2/enqueue`), as PagerDuty publishes it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import as_utc

SEVERITY = {"critical": "critical", "error": "high", "warning": "medium", "info": "low"}


class PdPayload(BaseModel):
    # Extras are kept so that the answer can name them (`unknown_fields`).
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=1024)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: datetime | None = None
    component: str | None = Field(default=None, max_length=1024)
    group: str | None = Field(default=None, max_length=1024)
    class_: str | None = Field(default=None, alias="class", max_length=1024)
    custom_details: Any = None

    _utc = field_validator("timestamp")(as_utc)


class PdImage(BaseModel):
    model_config = ConfigDict(extra="allow")

    src: str
    href: str | None = None
    alt: str | None = None


class PdLink(BaseModel):
    model_config = ConfigDict(extra="allow")

    href: str
    text: str | None = None


class PdEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    routing_key: str = Field(min_length=1, max_length=64)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    client: str | None = Field(default=None, max_length=1024)
    client_url: str | None = Field(default=None, max_length=2048)
    payload: PdPayload | None = None
    images: list[PdImage] = Field(default_factory=list, max_length=50)
    links: list[PdLink] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _required_by_action(self) -> PdEvent:
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("'payload' is required for event_action 'trigger'")
        if self.event_action != "trigger" and not self.dedup_key:
            raise ValueError(f"'dedup_key' is required for event_action '{self.event_action}'")
        return self


def to_alert(event: PdEvent) -> NormalizedAlert:
    """The alert an event describes; a trigger without dedup_key gets a new key."""
    if event.event_action != "trigger" or event.payload is None:
        return NormalizedAlert(
            title="", severity="low", action=event.event_action, dedup_key=event.dedup_key
        )
    payload = event.payload
    labels = {
        name: value
        for name, value in (
            ("component", payload.component),
            ("group", payload.group),
            ("class", payload.class_),
        )
        if value
    }
    details: dict[str, Any] = {}
    if payload.custom_details is not None:
        details["custom_details"] = payload.custom_details
    if event.client:
        details["client"] = event.client
    if event.client_url:
        details["client_url"] = event.client_url
    if event.images:
        details["images"] = [i.model_dump(exclude_none=True) for i in event.images]
    if event.links:
        details["links"] = [link.model_dump(exclude_none=True) for link in event.links]
    return NormalizedAlert(
        title=payload.summary,
        severity=SEVERITY[payload.severity],
        source=payload.source,
        labels=labels,
        dedup_key=event.dedup_key or uuid.uuid4().hex,
        occurred_at=payload.timestamp,
        details=details or None,
    )
