"""Prometheus Alertmanager webhook v4 at /api/v1/integrations/alertmanager."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import new_service

URL = "/api/v1/integrations/alertmanager"


def entry(name: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} is firing", "description": "details"},
        "startsAt": "2026-03-01T11:59:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": f"fp-{name}",
    }


def webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="x"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "oncallnova",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


async def test_each_entry_is_an_alert_with_its_fingerprint(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    hook = webhook(entry("HighCPU", severity="critical"), entry("DiskFull", severity="warning"))
    response = await client.post(URL, json=hook, headers={"X-Routing-Key": svc["key"]})
    assert response.status_code == 202
    results = response.json()["alerts"]
    assert [r["fingerprint"] for r in results] == ["fp-HighCPU", "fp-DiskFull"]
    listing = (await client.get("/api/v1/incidents")).json()
    assert sorted(i["severity"] for i in listing["items"]) == ["critical", "medium"]
    detail = (await client.get(f"/api/v1/incidents/{results[0]['incident_id']}")).json()
    alert = detail["alerts"][0]
    assert alert["title"] == "HighCPU is firing"
    assert alert["labels"]["alertname"] == "HighCPU"
    assert alert["occurred_at"].startswith("2026-03-01T11:59:00")


async def test_key_in_query_and_default_severity(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    response = await client.post(URL, params={"routing_key": svc["key"]}, json=webhook(entry("X")))
    assert response.status_code == 202
    incident = (await client.get("/api/v1/incidents")).json()["items"][0]
    assert incident["severity"] == "high"


async def test_repeats_dedup_and_resolved_entries_resolve(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    headers = {"X-Routing-Key": svc["key"]}
    for _ in range(3):  # Alertmanager resends firing alerts every repeat_interval
        await client.post(URL, json=webhook(entry("A"), entry("B")), headers=headers)
    listing = (await client.get("/api/v1/incidents")).json()
    assert listing["total"] == 1
    incident_id = listing["items"][0]["id"]
    detail = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    assert sorted(a["count"] for a in detail["alerts"]) == [3, 3]
    await client.post(URL, json=webhook(entry("A", "resolved")), headers=headers)
    assert (await client.get(f"/api/v1/incidents/{incident_id}")).json()["status"] == "triggered"
    await client.post(URL, json=webhook(entry("B", "resolved")), headers=headers)
    assert (await client.get(f"/api/v1/incidents/{incident_id}")).json()["status"] == "resolved"


async def test_bad_webhooks_are_refused_whole(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    headers = {"X-Routing-Key": svc["key"]}
    wrong_version = {**webhook(entry("A")), "version": "3"}
    response = await client.post(URL, json=wrong_version, headers=headers)
    assert response.status_code == 422
    assert "version" in response.json()["detail"]
    bad_entry = webhook(entry("A"), {"status": "burning", "labels": {}})
    response = await client.post(URL, json=bad_entry, headers=headers)
    assert response.status_code == 422
    assert "alerts[1].status" in response.json()["detail"]
    assert (await client.post(URL, json=webhook(entry("A")))).status_code == 401
    assert (await client.get("/api/v1/incidents")).json()["total"] == 0
