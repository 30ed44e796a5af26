"""The demo service the alert commands send to, created on first use, and the alert
payloads of the three formats OnCallNova ingests."""

from __future__ import annotations

from typing import Any

from oncallnova.operator.client import Api, OperatorError

DEMO_SERVICE = "oncallnova-demo"
# The demo service correlates by this label too, so each `demo` run (its own value) gets
# its own incidents and never joins what `test-alert` left open (value "test").
RUN_LABEL = "demo_run"
SERVICES = "/api/v1/services"
NATIVE = "/api/v1/alerts"
PAGERDUTY = "/v2/enqueue"
ALERTMANAGER = "/api/v1/integrations/alertmanager"
PD_SEVERITY = {"critical": "critical", "high": "error", "medium": "warning", "low": "info"}


def find_service(api: Api, name: str) -> dict[str, Any] | None:
    for service in api.get(SERVICES, limit=500)["items"]:
        if service["name"] == name:
            return dict(service)
    return None


def live_key(service: dict[str, Any]) -> str | None:
    for key in service.get("integration_keys", []):
        if key.get("revoked_at") is None and key.get("key"):
            return str(key["key"])
    return None


def ensure_service(
    api: Api, name: str = DEMO_SERVICE, **fields: Any
) -> tuple[dict[str, Any], str, bool]:
    """The service named `name` and a live integration key, created when missing.
    Returns (service, key, created)."""
    service = find_service(api, name)
    created = service is None
    if service is None:
        body = {
            "name": name,
            "description": "Alerts sent by the oncallnova demo commands.",
            "correlation_key": ["service", "severity", f"labels.{RUN_LABEL}"],
        }
        service = dict(api.post(SERVICES, {**body, **fields}))
    key = live_key(service)
    if key is None:
        added = api.post(f"{SERVICES}/{service['id']}/integration-keys", {"name": "demo"})
        key = added.get("key") if isinstance(added, dict) else None
        if not key:
            raise OperatorError(f"service {name} has no integration key this account may read")
    return service, str(key), created


def native_alert(title: str, severity: str, run: str = "test", **extra: Any) -> dict[str, Any]:
    labels = {RUN_LABEL: run, **extra.pop("labels", {})}
    return {
        "title": title,
        "severity": severity,
        "source": "oncallnova-demo",
        "labels": labels,
        **extra,
    }


def pagerduty_event(key: str, summary: str, severity: str, dedup_key: str) -> dict[str, Any]:
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": summary,
            "source": "oncallnova-demo",
            "severity": PD_SEVERITY[severity],
        },
    }


def alertmanager_hook(alerts: list[tuple[str, str, str]], run: str = "test") -> dict[str, Any]:
    """A webhook v4 payload of firing alerts given as (alertname, severity, fingerprint)."""
    return {
        "version": "4",
        "status": "firing",
        "receiver": "oncallnova",
        "groupKey": '{}:{alertname="demo"}',
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "severity": severity, RUN_LABEL: run},
                "annotations": {"summary": name},
                "fingerprint": fingerprint,
            }
            for name, severity, fingerprint in alerts
        ],
    }
