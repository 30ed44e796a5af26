"""What a person reads in a chat or push notification, from any delivery: pure, no I/O.

A delivery is either a webhook event (`{"event": {...}}`, the body of OnCallNova's own
format) or a personal notification (a page, its acknowledgement or resolution, a test,
a shift reminder). Each becomes one `Message`; the formats (`formats.py`) only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from oncallnova.notify.channels import Delivery

ACK_HINT = "To acknowledge, open the incident and press Acknowledge (or POST …/acknowledge)."
EVENT_KINDS = {
    "incident.new": "page",
    "incident.acknowledged": "acknowledged",
    "incident.resolved": "resolved",
}


@dataclass(frozen=True)
class Message:
    kind: str  # page | acknowledged | resolved | event | test | reminder
    title: str  # the line read first, e.g. "[CRITICAL] #482 checkout: CPU high"
    text: str
    severity: str | None = None
    link: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    hint: str | None = None  # how to act on it (acknowledge), when it needs acting on

    @property
    def urgent(self) -> bool:
        return self.kind == "page"


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _label(kind: str, incident: dict[str, Any]) -> str:
    if kind in ("page", "event"):
        return str(incident.get("severity") or "alert").upper()
    return kind.upper()


def headline(kind: str, incident: dict[str, Any], service: str) -> str:
    number = incident.get("number")
    prefix = f"#{number} " if isinstance(number, int) and not isinstance(number, bool) else ""
    title = incident.get("title") or "untitled incident"
    return _one_line(f"[{_label(kind, incident)}] {prefix}{service or 'unknown service'}: {title}")


def _absolute(link: str | None, base_url: str) -> str | None:
    if not link:
        return None
    return link if link.startswith(("http://", "https://")) else base_url.rstrip("/") + link


def _incident_message(
    kind: str, incident: dict[str, Any], service: str, text: str, base_url: str
) -> Message:
    incident_id = str(incident.get("id") or "")
    facts = [
        ("Severity", str(incident.get("severity") or "unknown")),
        ("Service", service or "unknown service"),
        ("Status", str(incident.get("status") or "unknown")),
    ]
    number = incident.get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        facts.append(("Incident", f"#{number}"))
    open_ = str(incident.get("status") or "triggered") == "triggered"
    return Message(
        kind=kind,
        title=headline(kind, incident, service),
        text=text,
        severity=str(incident.get("severity") or "") or None,
        link=f"{base_url.rstrip('/')}/incidents/{quote(incident_id, safe='')}"
        if incident_id
        else None,
        facts=facts,
        hint=ACK_HINT if kind in ("page", "event") and open_ else None,
    )


def _event_text(event: dict[str, Any]) -> str:
    kind = str(event.get("event_type") or "")
    agent = (event.get("agent") or {}).get("name") or "someone"
    details = (event.get("data") or {}).get("details") or {}
    texts = {
        "incident.new": "A new incident was triggered.",
        "incident.acknowledged": f"Acknowledged by {agent}.",
        "incident.resolved": f"Resolved by {agent}.",
        "incident.escalated": f"Escalated to level {details.get('level', '?')}.",
        "incident.reassigned": f"Reassigned by {agent}.",
        "incident.annotated": f"Note by {agent}: {details.get('note', '')}".strip(),
        "incident.severity_raised": "The severity was raised by a repeat of its alert.",
        "incident.unacknowledged": "The acknowledgement timed out: triggered again.",
    }
    return texts.get(kind, kind)


def message_of(delivery: Delivery, base_url: str) -> Message:
    payload = delivery.payload
    event = payload.get("event")
    if isinstance(event, dict):
        if event.get("resource_type") != "incident":
            return Message(
                kind="test",
                title="OnCallNova test event",
                text="This webhook is set up: incident events will be posted here.",
            )
        data = event.get("data") or {}
        kind = EVENT_KINDS.get(str(event.get("event_type")), "event")
        return _incident_message(
            kind, data, str(data.get("service_name") or ""), _event_text(event), base_url
        )
    if delivery.kind in ("test", "reminder"):
        return Message(
            kind=delivery.kind,
            title=_one_line(payload.get("title") or "OnCallNova"),
            text=str(payload.get("text") or ""),
            link=_absolute(payload.get("link"), base_url),
        )
    incident = payload.get("incident") or {}
    service = str(payload.get("service_name") or "")
    if delivery.kind == "page":
        text = f"{payload.get('user_name') or 'You'}, you are paged"
        if payload.get("reason"):
            text += f": {payload['reason']}"
        text += "."
    else:
        text = f"{delivery.kind.capitalize()} by {payload.get('agent') or 'someone'}."
    return _incident_message(delivery.kind, incident, service, text, base_url)
