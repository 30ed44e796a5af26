"""Builds the notification email for one delivery: pure, no I/O.

The subject leads with what a responder triages by, then where and what:

- page:          ``[CRITICAL] #482 checkout: CPU high`` (the incident's severity, upper-cased)
- acknowledged:  ``[ACKNOWLEDGED] #482 checkout: CPU high``
- resolved:      ``[RESOLVED] #482 checkout: CPU high``

``#482`` is the incident's short number, the one responders say (left out for a delivery
queued before incidents had numbers).

Every message is multipart/alternative (plain text first, then inline-styled HTML with
no scripts and no external assets), rendered from the Jinja2 templates shipped in
``templates/``. It carries ``X-OnCallNova-Delivery`` (stable across retries, so a
receiver can drop duplicates) and ``X-OnCallNova-Incident``, ``Auto-Submitted:
auto-generated`` so vacation responders stay quiet, and a ``References`` header naming
the incident so mail clients that thread by it group a page with its acknowledgement
and resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from oncallnova.notify.channels import Delivery

KINDS = ("page", "acknowledged", "resolved")
# A test of a contact method and a shift reminder: a title and a text, no incident.
NOTICES = {"test": "TEST", "reminder": "ON CALL"}
TEMPLATES = Path(__file__).parent / "templates"

# Banner colour per severity (pages) or per kind (acknowledged, resolved).
ACCENTS = {
    "critical": "#b42318",
    "high": "#c4320a",
    "medium": "#b54708",
    "low": "#175cd3",
    "acknowledged": "#9a6700",
    "resolved": "#1a7f37",
}
DEFAULT_ACCENT = "#475467"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # One environment for both parts: autoescape is on for .html templates only, so the
    # plain-text part keeps a title such as "<script>" verbatim and the HTML escapes it.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _one_line(value: object) -> str:
    """Collapses whitespace: header values must not carry line breaks."""
    return " ".join(str(value).split())


@dataclass(frozen=True)
class Instant:
    """A moment as templates show it: `utc` for people, `iso` for machines."""

    utc: str
    iso: str
    moment: datetime | None = None


def _instant(value: object) -> Instant | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return Instant(str(value), str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    iso = moment.isoformat().replace("+00:00", "Z")
    return Instant(moment.strftime("%Y-%m-%d %H:%M:%S UTC"), iso, moment)


def _duration(start: Instant | None, end: Instant | None) -> str | None:
    """How long from `start` to `end`, e.g. "4m 12s" or "1h 5m"; None when unknown."""
    if start is None or end is None or start.moment is None or end.moment is None:
        return None
    seconds = int((end.moment - start.moment).total_seconds())
    if seconds < 0:
        return None
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def subject(delivery: Delivery) -> str:
    if delivery.kind in NOTICES:
        return _one_line(delivery.payload.get("title") or "OnCallNova")
    incident = delivery.payload.get("incident") or {}
    if delivery.kind == "page":
        label = str(incident.get("severity") or "alert").upper()
    else:
        label = delivery.kind.upper()
    service = delivery.payload.get("service_name") or "unknown service"
    title = incident.get("title") or "untitled incident"
    number = _number(incident)
    return _one_line(f"[{label}] {number + ' ' if number else ''}{service}: {title}")


def _number(incident: dict[str, Any]) -> str:
    """``#482``, or "" when the payload has no number."""
    number = incident.get("number")
    return f"#{number}" if isinstance(number, int) and not isinstance(number, bool) else ""


def _context(delivery: Delivery, base_url: str) -> dict[str, Any]:
    payload = delivery.payload
    incident = payload.get("incident") or {}
    incident_id = str(incident.get("id") or delivery.incident_id or "")
    severity = str(incident.get("severity") or "unknown")
    created = _instant(incident.get("created_at"))
    acknowledged = _instant(incident.get("acknowledged_at"))
    resolved = _instant(incident.get("resolved_at"))
    if delivery.kind == "acknowledged":
        actor = payload.get("agent") or incident.get("acknowledged_by")
        at, took = acknowledged, _duration(created, acknowledged)
    elif delivery.kind == "resolved":
        actor = payload.get("agent") or incident.get("resolved_by")
        at, took = resolved, _duration(created, resolved)
    else:
        actor, at, took = None, None, None
    accent_key = severity if delivery.kind == "page" else delivery.kind
    return {
        "kind": delivery.kind,
        "subject": subject(delivery),
        "label": severity.upper() if delivery.kind == "page" else delivery.kind.upper(),
        "accent": ACCENTS.get(accent_key, DEFAULT_ACCENT),
        "to": str(payload.get("to") or ""),
        "user_name": str(payload.get("user_name") or payload.get("to") or ""),
        "service_name": str(payload.get("service_name") or "unknown service"),
        "title": str(incident.get("title") or "untitled incident"),
        "severity": severity,
        "status": str(incident.get("status") or "unknown"),
        "alert_count": incident.get("alert_count"),
        "created": created,
        "at": at,
        "took": took,
        "actor": str(actor) if actor else None,
        "level": payload.get("level"),
        "repeat_round": int(payload.get("round") or 0),
        "reason": payload.get("reason"),
        "incident_id": incident_id,
        "number": _number(incident),
        "link": f"{base_url.rstrip('/')}/incidents/{quote(incident_id, safe='')}",
        "delivery_id": delivery.id,
    }


def _notice(delivery: Delivery, base_url: str) -> dict[str, Any]:
    payload = delivery.payload
    link = str(payload.get("link") or "")
    if link.startswith("/"):
        link = base_url.rstrip("/") + link
    return {
        "subject": subject(delivery),
        "label": NOTICES[delivery.kind],
        "accent": ACCENTS["low"],
        "title": str(payload.get("title") or "OnCallNova"),
        "text": str(payload.get("text") or ""),
        "link": link,
        "to": str(payload.get("to") or ""),
        "user_name": str(payload.get("user_name") or payload.get("to") or ""),
        "delivery_id": delivery.id,
        "incident_id": "",
    }


def render(
    delivery: Delivery,
    base_url: str,
    *,
    sender: str = "oncallnova@localhost",
    now: datetime | None = None,
) -> EmailMessage:
    """The complete message for `delivery`; raises ValueError when it cannot be built."""
    if delivery.kind not in KINDS and delivery.kind not in NOTICES:
        raise ValueError(f"email does not support delivery kind '{delivery.kind}'")
    to = str(delivery.payload.get("to") or "").strip()
    if not to:
        raise ValueError("user has no email address")
    notice = delivery.kind in NOTICES
    context = _notice(delivery, base_url) if notice else _context(delivery, base_url)
    env = _environment()
    template = "notice" if notice else delivery.kind
    text = env.get_template(f"{template}.txt").render(context)
    html = env.get_template(f"{template}.html").render(context)

    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["Subject"] = context["subject"]
    message["From"] = sender
    user_name = _one_line(delivery.payload.get("user_name") or "")
    message["To"] = formataddr((user_name, to)) if user_name else to
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=domain)
    message["X-OnCallNova-Delivery"] = _one_line(delivery.id)
    message["X-OnCallNova-Incident"] = _one_line(context["incident_id"])
    message["Auto-Submitted"] = "auto-generated"
    if context["incident_id"]:
        message["References"] = f"<incident.{quote(context['incident_id'], safe='')}@{domain}>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
