"""Pure rules of ingestion: normal form, fingerprints, correlation keys."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Action = Literal["trigger", "acknowledge", "resolve"]
SEVERITIES = ("critical", "high", "medium", "low")
# Higher is worse; a repeat may raise an alert's severity, never lower it.
SEVERITY_RANK = {name: len(SEVERITIES) - n for n, name in enumerate(SEVERITIES)}


@dataclass(slots=True)
class NormalizedAlert:
    """One alert in OnCallNova's own terms, whatever format it arrived in."""

    title: str
    severity: str
    action: Action = "trigger"
    source: str | None = None
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    dedup_key: str | None = None
    occurred_at: datetime | None = None
    details: dict[str, Any] | None = None


def more_severe(a: str, b: str) -> str:
    return b if SEVERITY_RANK.get(b, 0) > SEVERITY_RANK.get(a, 0) else a


def fingerprint(alert: NormalizedAlert) -> str:
    """The client's dedup key if given, else a SHA-256 of the identifying fields."""
    if alert.dedup_key:
        return alert.dedup_key
    identity = [alert.title, alert.source or "", sorted(alert.labels.items())]
    raw = json.dumps(identity, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def correlation_values(
    names: tuple[str, ...], service_id: str, alert: NormalizedAlert
) -> list[str]:
    values = []
    for name in names:
        if name == "service":
            values.append(service_id)
        elif name == "severity":
            values.append(alert.severity)
        elif name == "source":
            values.append(alert.source or "")
        elif name == "title":
            values.append(alert.title)
        else:
            label = name.removeprefix("labels.")
            values.append(alert.labels.get(label, ""))
    return values


def correlation_key(names: tuple[str, ...], service_id: str, alert: NormalizedAlert) -> str:
    values = correlation_values(names, service_id, alert)
    raw = json.dumps([list(names), values], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()
