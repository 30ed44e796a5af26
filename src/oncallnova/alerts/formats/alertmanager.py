"""Prometheus Alertmanager webhook receiver, payload version 4."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import Labels
from oncallnova.core.validation import UtcDatetime

SEVERITY = {
    "critical": "critical",
    "page": "critical",
    "high": "high",
    "error": "high",
    "major": "high",
    "warning": "medium",
    "warn": "medium",
    "medium": "medium",
    "minor": "medium",
    "info": "low",
    "low": "low",
    "none": "low",
}
DEFAULT_SEVERITY = "high"
# Alertmanager sends Go's zero time for "not set".
_GO_ZERO_YEAR = 1


# Unknown fields are ignored without a warning: Alertmanager writes these payloads
# itself (no hand-made typos), newer versions may add fields, and it discards the answer.
class AmAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: Labels = Field(default_factory=dict)
    annotations: Labels = Field(default_factory=dict)
    startsAt: UtcDatetime | None = None
    endsAt: UtcDatetime | None = None
    generatorURL: str | None = Field(default=None, max_length=2048)
    fingerprint: str | None = Field(default=None, max_length=255)


class AmWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str
    groupKey: str | None = None
    truncatedAlerts: int = 0
    status: Literal["firing", "resolved"]
    receiver: str | None = None
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None
    alerts: list[AmAlert] = Field(min_length=1, max_length=1000)

    @field_validator("version")
    @classmethod
    def _version_4(cls, value: str) -> str:
        if value != "4":
            raise ValueError(f"unsupported payload version '{value}'; expected '4'")
        return value


class Group(Protocol):
    """What an entry's alert takes from the webhook around it (Alertmanager's, or the same
    form as Grafana alerting sends it)."""

    @property
    def receiver(self) -> str | None: ...
    @property
    def groupKey(self) -> str | None: ...
    @property
    def externalURL(self) -> str | None: ...


def to_alerts(hook: AmWebhook) -> list[NormalizedAlert]:
    return [entry_alert(hook, entry) for entry in hook.alerts]


def entry_alert(hook: Group, entry: AmAlert) -> NormalizedAlert:
    """One entry of the webhook as one alert, its fingerprint (else its labels) the key."""
    labels = entry.labels
    title = (
        entry.annotations.get("summary")
        or entry.annotations.get("title")
        or labels.get("alertname")
        or "Alertmanager alert"
    )[:1024]
    details: dict[str, Any] = {"annotations": entry.annotations} if entry.annotations else {}
    for name, value in (
        ("generator_url", entry.generatorURL),
        ("receiver", hook.receiver),
        ("group_key", hook.groupKey),
        ("external_url", hook.externalURL),
    ):
        if value:
            details[name] = value
    return NormalizedAlert(
        title=title,
        severity=SEVERITY.get(labels.get("severity", "").lower(), DEFAULT_SEVERITY),
        action="resolve" if entry.status == "resolved" else "trigger",
        source=labels.get("instance") or labels.get("job") or entry.generatorURL,
        description=entry.annotations.get("description"),
        labels=dict(labels),
        dedup_key=entry.fingerprint or label_fingerprint(labels),
        occurred_at=instant(entry.startsAt),
        details=details or None,
    )


def label_fingerprint(labels: dict[str, str]) -> str:
    raw = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def instant(value: datetime | None) -> datetime | None:
    if value is None or value.year == _GO_ZERO_YEAR:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
