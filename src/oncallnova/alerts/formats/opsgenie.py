"""Opsgenie's Alert API v2 (`POST /v2/alerts` and the actions on one alert), as Opsgenie
documents it (docs.opsgenie.com "Alert API": create alert, close, acknowledge, add note,
get request status) and as its own clients send it: the field limits below are
Opsgenie's, and Prometheus Alertmanager's Opsgenie notifier
(prometheus/alertmanager `notify/opsgenie/opsgenie.go`) sends `alias` (a SHA-256 of its
group key), `message`, `description`, `details`, `source`, `tags`, `priority`, and
closes with `POST v2/alerts/{alias}/close?identifierType=alias`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from oncallnova.alerts.logic import NormalizedAlert, dedup_key_for

# Opsgenie's priorities in OnCallNova's severities.
SEVERITY = {"P1": "critical", "P2": "high", "P3": "medium", "P4": "low", "P5": "low"}

Short = Field(default=None, max_length=100)
# Tags and actions: at most 50 characters each.
Word = Annotated[str, StringConstraints(min_length=1, max_length=50)]


class OgRecipient(BaseModel):
    """A responder or a `visibleTo` entry: a team, user, escalation or schedule named by
    `id`, `name` or `username`. Kept with the alert; OnCallNova pages by its own policy."""

    model_config = ConfigDict(extra="allow")

    type: Literal["team", "user", "escalation", "schedule"]
    id: str | None = Field(default=None, max_length=512)
    name: str | None = Field(default=None, max_length=512)
    username: str | None = Field(default=None, max_length=512)


class OgCreate(BaseModel):
    # Extras are kept so that the answer's warnings can name them (`unknown_fields`).
    model_config = ConfigDict(extra="allow")

    message: str = Field(min_length=1, max_length=130)
    alias: str | None = Field(default=None, min_length=1, max_length=512)
    description: str | None = Field(default=None, max_length=15_000)
    responders: list[OgRecipient] = Field(default_factory=list, max_length=50)
    visibleTo: list[OgRecipient] = Field(default_factory=list, max_length=50)
    actions: list[Word] = Field(default_factory=list, max_length=10)
    tags: list[Word] = Field(default_factory=list, max_length=20)
    details: dict[str, str] = Field(default_factory=dict, max_length=100)
    entity: str | None = Field(default=None, max_length=512)
    source: str | None = Short
    priority: Literal["P1", "P2", "P3", "P4", "P5"] = "P3"
    user: str | None = Short
    note: str | None = Field(default=None, max_length=25_000)


class OgAction(BaseModel):
    """The body of close, acknowledge and add-note; every field is optional but a note's
    `note`. Opsgenie's clients may send no body at all."""

    model_config = ConfigDict(extra="allow")

    user: str | None = Short
    source: str | None = Short
    note: str | None = Field(default=None, min_length=1, max_length=25_000)


def alias_of(create: OgCreate) -> str:
    """The alias the alert is known by: the sender's, or a new one (Opsgenie gives an
    alert without alias an identity of its own, so such alerts never deduplicate)."""
    return create.alias or uuid.uuid4().hex


def to_alert(create: OgCreate, alias: str) -> NormalizedAlert:
    details: dict[str, Any] = {"alias": alias}
    if create.details:
        details["custom_details"] = create.details
    for name in ("entity", "user", "note"):
        if value := getattr(create, name):
            details[name] = value
    for name in ("tags", "actions"):
        if value := getattr(create, name):
            details[name] = value
    for name in ("responders", "visibleTo"):
        if value := getattr(create, name):
            details[name] = [r.model_dump(exclude_none=True) for r in value]
    return NormalizedAlert(
        title=create.message,
        severity=SEVERITY[create.priority],
        source=create.source,
        description=create.description,
        labels=tag_labels(create.tags),
        dedup_key=dedup_key_for(alias),
        details=details,
    )


def tag_labels(tags: list[str]) -> dict[str, str]:
    """Tags as labels: `env:prod` is the label env=prod (the usual way of writing a
    key and value in a tag), a plain tag `database` the label database=true. The tags
    themselves are kept in the details as sent."""
    labels: dict[str, str] = {}
    for tag in tags:
        name, sep, value = tag.partition(":")
        name = name.strip()[:256]
        if name:
            labels[name] = value.strip()[:4096] if sep else "true"
    return labels
