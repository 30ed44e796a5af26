"""`oncallnova test-alert`, `test-batch` and `demo`: alerts to the demo service."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oncallnova.operator import demo_service as demo
from oncallnova.operator.client import Api, OperatorError
from oncallnova.operator.ui import (
    JsonOption,
    TokenOption,
    UrlOption,
    connect,
    out,
    print_json,
    reports_errors,
)

SEVERITIES = ("critical", "high", "medium", "low")


def _landed(api: Api, results: list[dict[str, Any]], titles: list[str]) -> list[dict[str, Any]]:
    """Each posted alert with the incident it landed in (number, title, status)."""
    seen: dict[str, dict[str, Any]] = {}
    rows = []
    for title, result in zip(titles, results, strict=True):
        incident_id = result.get("incident_id")
        if incident_id and incident_id not in seen:
            seen[incident_id] = api.get(f"/api/v1/incidents/{incident_id}")
        incident = seen.get(incident_id or "", {})
        rows.append(
            {
                "title": title,
                "alert_id": result.get("alert_id"),
                "deduplicated": result.get("deduplicated"),
                "incident_id": incident_id,
                "incident_number": incident.get("number"),
                "incident_title": incident.get("title"),
                "incident_status": incident.get("status"),
                "incident_alerts": incident.get("alert_count"),
            }
        )
    return rows


def _show(url: str, service: str, created: bool, rows: list[dict[str, Any]]) -> None:
    if created:
        out.print(f"created the demo service [bold]{escape(service)}[/bold]")
    table = Table(title=f"Sent to {escape(service)}")
    for column in ("alert", "deduplicated", "incident", "incident title", "status", "alerts"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            escape(row["title"]),
            "yes" if row["deduplicated"] else "no",
            f"#{row['incident_number']}",
            escape(str(row["incident_title"])),
            str(row["incident_status"]),
            str(row["incident_alerts"]),
        )
    out.print(table)
    for number in dict.fromkeys(r["incident_number"] for r in rows):
        out.print(f"  {url}/incidents/{number}")


def _send(url: str | None, token: str | None, alerts: list[dict[str, Any]], as_json: bool) -> None:
    with connect(url, token) as api:
        service, key, created = demo.ensure_service(api)
        body: Any = alerts[0] if len(alerts) == 1 else alerts
        answer = api.ingest(demo.NATIVE, key, body)
        rows = _landed(api, answer["alerts"], [a["title"] for a in alerts])
        if as_json:
            print_json({"service": service["name"], "service_created": created, "alerts": rows})
        else:
            _show(api.url, service["name"], created, rows)


@reports_errors
def test_alert(
    url: UrlOption = None,
    token: TokenOption = None,
    title: Annotated[str, typer.Option(help="The alert's title.")] = "Test alert from oncallnova",
    severity: Annotated[str, typer.Option(help="critical, high, medium or low.")] = "high",
    as_json: JsonOption = False,
) -> None:
    """Send one alert to the demo service (created on first use) and show its incident."""
    if severity not in SEVERITIES:
        raise OperatorError(f"--severity must be one of {', '.join(SEVERITIES)}", 2)
    _send(url, token, [demo.native_alert(title, severity)], as_json)


@reports_errors
def test_batch(
    url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """Send three alerts in one request to the demo service and show their incidents."""
    run = uuid.uuid4().hex[:6]
    alerts = [
        demo.native_alert(f"Batch {run}: API latency p99 over 2 s", "high"),
        demo.native_alert(f"Batch {run}: error rate over 5%", "high"),
        demo.native_alert(f"Batch {run}: disk 91% full on db-1", "medium"),
    ]
    _send(url, token, alerts, as_json)
