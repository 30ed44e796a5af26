"""A repeat of an open alert at a higher severity raises the alert and its incident."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.conftest import new_service
from tests.support.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


async def post(client: httpx.AsyncClient, key: str, body: object) -> dict[str, Any]:
    response = await client.post("/api/v1/alerts", json=body, headers={"X-Routing-Key": key})
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()["alerts"][0]
    return result


async def incident(client: httpx.AsyncClient, incident_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    return body


async def test_native_repeat_raises_alert_and_incident_with_timeline_and_event(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    svc = await new_service(client)
    hook = await client.post("/api/v1/webhooks", json={"url": receiver.url})
    assert hook.status_code == 201, hook.text
    first = await post(
        client,
        svc["key"],
        {"title": "Queue lag", "severity": "medium", "dedup_key": "lag", "description": "slow"},
    )
    clock.advance(30)
    again = await post(
        client,
        svc["key"],
        {
            "title": "Queue lag",
            "severity": "critical",
            "dedup_key": "lag",
            "description": "stalled for 10 minutes",
            "labels": {"queue": "orders"},
        },
    )
    assert again["deduplicated"] is True and again["alert_id"] == first["alert_id"]

    detail = await incident(client, first["incident_id"])
    assert detail["severity"] == "critical"
    (alert,) = detail["alerts"]
    assert alert["severity"] == "critical"
    assert alert["count"] == 2
    assert alert["description"] == "stalled for 10 minutes"
    assert alert["labels"] == {"queue": "orders"}
    raised = [e for e in detail["timeline"] if e["kind"] == "severity"]
    assert [e["message"] for e in raised] == [
        "Severity raised from medium to critical by a repeat of: Queue lag"
    ]
    # Triage order and the severity filter see it as critical now.
    critical = (await client.get("/api/v1/incidents", params={"severity": "critical"})).json()
    assert [i["id"] for i in critical["items"]] == [first["incident_id"]]

    await rt.dispatcher.run_once(clock.now())
    bodies = [json.loads(r.body)["event"] for r in receiver.requests]
    assert [b["event_type"] for b in bodies] == ["incident.new", "incident.severity_raised"]
    assert bodies[1]["data"]["severity"] == "critical"
    assert bodies[1]["data"]["details"]["previous_severity"] == "medium"


async def test_lower_or_equal_repeat_never_lowers_and_keeps_details(
    client: httpx.AsyncClient,
) -> None:
    svc = await new_service(client)
    alert = {
        "title": "Disk",
        "severity": "high",
        "dedup_key": "disk",
        "description": "90%",
        "labels": {"mount": "/var"},
        "details": {"used": "90%"},
    }
    first = await post(client, svc["key"], alert)
    await post(client, svc["key"], {"title": "Disk", "severity": "low", "dedup_key": "disk"})
    detail = await incident(client, first["incident_id"])
    assert detail["severity"] == "high"
    (stored,) = detail["alerts"]
    assert stored["severity"] == "high"
    assert stored["count"] == 2
    # The repeat sent no description, labels or details: the last ones sent stay.
    assert stored["description"] == "90%"
    assert stored["labels"] == {"mount": "/var"}
    assert stored["details"] == {"custom_details": {"used": "90%"}}
    assert not [e for e in detail["timeline"] if e["kind"] == "severity"]


async def test_pagerduty_repeat_raises_and_keeps_latest_custom_details(
    client: httpx.AsyncClient,
) -> None:
    svc = await new_service(client)

    def event(severity: str, details: dict[str, Any]) -> dict[str, Any]:
        return {
            "routing_key": svc["key"],
            "event_action": "trigger",
            "dedup_key": "pd-1",
            "payload": {
                "summary": "Payments failing",
                "source": "pay1",
                "severity": severity,
                "custom_details": details,
            },
        }

    for severity, rate in (("warning", 1), ("critical", 9)):
        response = await client.post("/v2/enqueue", json=event(severity, {"rate": rate}))
        assert response.status_code == 202, response.text
    listing = (await client.get("/api/v1/incidents")).json()
    assert listing["total"] == 1
    detail = await incident(client, listing["items"][0]["id"])
    assert detail["severity"] == "critical"
    assert detail["alerts"][0]["details"]["custom_details"] == {"rate": 9}
    messages = [e["message"] for e in detail["timeline"]]
    assert any(m.startswith("Severity raised from medium to critical") for m in messages)


async def test_repeat_in_the_same_batch_opens_at_the_worst_severity(
    client: httpx.AsyncClient,
) -> None:
    svc = await new_service(client)
    batch = [
        {"title": "Latency", "severity": "low", "dedup_key": "lat"},
        {"title": "Latency", "severity": "high", "dedup_key": "lat"},
    ]
    response = await client.post(
        "/api/v1/alerts", json=batch, headers={"X-Routing-Key": svc["key"]}
    )
    results = response.json()["alerts"]
    detail = await incident(client, results[0]["incident_id"])
    assert detail["severity"] == "high"
    assert detail["alerts"][0]["severity"] == "high"
    assert detail["alerts"][0]["count"] == 2


async def test_raised_incident_keeps_its_correlation_bucket(client: httpx.AsyncClient) -> None:
    """The default key is (service, severity). The raised incident stays in the bucket
    of the alert that opened it: its medium siblings still join it, and a new critical
    alert opens its own incident rather than hiding in this one."""
    svc = await new_service(client)
    opened = await post(client, svc["key"], {"title": "a", "severity": "medium", "dedup_key": "a"})
    await post(client, svc["key"], {"title": "a", "severity": "critical", "dedup_key": "a"})
    sibling = await post(client, svc["key"], {"title": "b", "severity": "medium"})
    assert sibling["incident_id"] == opened["incident_id"]
    other = await post(client, svc["key"], {"title": "c", "severity": "critical"})
    assert other["incident_id"] != opened["incident_id"]
    assert (await incident(client, opened["incident_id"]))["severity"] == "critical"


async def test_a_more_severe_alert_joining_raises_the_incident_visibly(
    client: httpx.AsyncClient,
) -> None:
    svc = await new_service(client, correlation_key=["service"])
    opened = await post(client, svc["key"], {"title": "Slow pages", "severity": "low"})
    joined = await post(client, svc["key"], {"title": "Checkout down", "severity": "critical"})
    assert joined["incident_id"] == opened["incident_id"]
    detail = await incident(client, opened["incident_id"])
    assert detail["severity"] == "critical"
    messages = [e["message"] for e in detail["timeline"]]
    assert "Alert joined: Checkout down" in messages
    assert "Severity raised from low to critical by alert: Checkout down" in messages
