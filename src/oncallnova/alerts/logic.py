"""Pure rules of ingestion: normal form, fingerprints, correlation keys."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from oncallnova.core.vocab import most_severe

Action = Literal["trigger", "acknowledge", "resolve"]


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


def repeat_update(alert_id: str, severity: str, now: datetime) -> dict[str, Any]:
    """The update of an open alert seen again (`store.add_repeats`), before merging."""
    return {
        "alert_id": alert_id,
        "extra": 0,
        "seen": now,
        "new_severity": severity,
        "new_description": None,
        "new_labels": None,
        "new_details": None,
    }


def merge_sighting(row: dict[str, Any], alert: NormalizedAlert, prefix: str = "") -> None:
    """Fold one more sighting into a row: count it, keep the worst severity and the
    latest description, labels and details that were sent (a field left out keeps the
    one before)."""
    row["extra" if prefix else "count"] += 1
    row[prefix + "severity"] = most_severe(row[prefix + "severity"], alert.severity)
    if alert.description is not None:
        row[prefix + "description"] = alert.description
    if alert.labels:
        row[prefix + "labels"] = alert.labels
    if alert.details is not None:
        row[prefix + "details"] = alert.details


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


# Only plain web links are ever shown as links: no javascript:, data: or the like, and
# nothing a browser would read differently from how it is checked here.
_WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f<>\"'`]+", re.IGNORECASE)


def is_web_url(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 2048 and _WEB_URL.fullmatch(value) is not None


def links(details: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(text, URL) of the web links in an alert's details, runbook first, without repeats.

    Alertmanager: the `runbook_url` (or `runbook`) and other `*_url` annotations, the
    generator URL; PagerDuty: `links`, `client_url`, `images`; native: `runbook_url`.
    """
    if not details:
        return []
    found: list[tuple[str, str]] = []
    annotations = details.get("annotations")
    notes = annotations if isinstance(annotations, dict) else {}
    found.append(("Runbook", details.get("runbook_url") or notes.get("runbook_url")))
    found.append(("Runbook", notes.get("runbook")))
    for name, value in notes.items():
        if name.endswith("_url") and name != "runbook_url":
            found.append((name.removesuffix("_url").replace("_", " ").capitalize(), value))
    found.append(("Source (generator)", details.get("generator_url")))
    for entry in _dicts(details.get("links")):
        found.append((str(entry.get("text") or entry.get("href")), entry.get("href")))
    found.append((str(details.get("client") or "Client"), details.get("client_url")))
    for entry in _dicts(details.get("images")):
        text = str(entry.get("alt") or "Image")
        found.append((text, entry.get("href") or entry.get("src")))
    seen: set[str] = set()
    out = []
    for text, href in found:
        if is_web_url(href) and href not in seen:
            seen.add(href)
            out.append((text, href))
    return out


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# The stored dedup key and fingerprint hold at most this many characters.
MAX_DEDUP_KEY = 255


def dedup_key_for(identity: str) -> str:
    """A sender's own identity of an alert (an Opsgenie alias of up to 512 characters, an
    Alertmanager group key of any length) as a dedup key: itself when it fits, else a
    SHA-256 of it, so the same identity always finds the same open alert."""
    if len(identity) <= MAX_DEDUP_KEY:
        return identity
    return "sha256:" + hashlib.sha256(identity.encode()).hexdigest()
