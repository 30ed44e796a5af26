"""What each alert says, arranged for the incident page: its annotations, its custom
details as readable JSON, and the other facts its format sent. Links come from
`AlertOut.links` (http and https only); everything here is text, escaped by Jinja."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from oncallnova.alerts.schemas import AlertOut

# Shown in their own place (or as links), not again among the other facts.
_SHOWN_ELSEWHERE = {"annotations", "custom_details", "links", "images", "runbook_url"}


@dataclass
class AlertView:
    annotations: list[tuple[str, str]] = field(default_factory=list)
    custom: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.annotations or self.custom is not None or self.facts)


def alert_views(alerts: list[AlertOut]) -> dict[str, AlertView]:
    return {alert.id: _view(alert) for alert in alerts}


def _view(alert: AlertOut) -> AlertView:
    details: dict[str, Any] = alert.details or {}
    view = AlertView()
    notes = details.get("annotations")
    if isinstance(notes, dict):
        repeated = {alert.title, alert.description}
        view.annotations = [(str(k), str(v)) for k, v in notes.items() if v not in repeated]
    if "custom_details" in details:
        custom = details["custom_details"]
        view.custom = custom if isinstance(custom, str) else _json(custom)
    hrefs = {link.href for link in alert.links}
    for name, value in details.items():
        shown = name in _SHOWN_ELSEWHERE or (isinstance(value, str) and value in hrefs)
        if not shown and value not in (None, "", [], {}):
            view.facts.append((name.replace("_", " "), _text(value)))
    return view


def _text(value: object) -> str:
    return value if isinstance(value, str) else _json(value)


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
