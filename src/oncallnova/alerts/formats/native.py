"""OnCallNova's native format (`POST /api/v1/alerts`) in the ingestion's own terms."""

from __future__ import annotations

from typing import Any

from oncallnova.alerts.formats.errors import unknown_fields
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertIn


def to_alerts(items: list[AlertIn]) -> list[NormalizedAlert]:
    return [
        NormalizedAlert(
            title=a.title,
            severity=a.severity,
            action="resolve" if a.status == "resolved" else "trigger",
            source=a.source,
            description=a.description,
            labels=a.labels,
            dedup_key=a.dedup_key,
            occurred_at=a.timestamp,
            details=_details(a) if a.details is not None or a.runbook_url else None,
        )
        for a in items
    ]


def warnings(items: list[AlertIn], *, batch: bool) -> list[str]:
    """Unknown fields of each alert, named as the 422 errors name fields
    (`alerts[2].dedupkey` in a batch, `dedupkey` for one alert)."""
    found: list[str] = []
    for n, item in enumerate(items):
        if item.model_extra:
            found.extend(unknown_fields(item, f"alerts[{n}]" if batch else ""))
    return found


def _details(alert: AlertIn) -> dict[str, Any]:
    # Stored as the other formats store theirs, so the incident page shows them alike.
    details: dict[str, Any] = {}
    if alert.details is not None:
        details["custom_details"] = alert.details
    if alert.runbook_url:
        details["runbook_url"] = alert.runbook_url
    return details
