"""PagerDuty Events API v2 at /v2/enqueue, answering as PagerDuty does."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import new_service


def trigger(key: str, **extra: Any) -> dict[str, Any]:
    payload = {"summary": "DB down", "source": "db1", "severity": "error"}
    payload.update(extra.pop("payload", {}))
    return {"routing_key": key, "event_action": "trigger", "payload": payload, **extra}


async def test_trigger_without_dedup_key_gets_a_generated_one(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    response = await client.post("/v2/enqueue", json=trigger(svc["key"]))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "Event processed"
    assert len(body["dedup_key"]) >= 16
    # each trigger without a key is a new alert
    again = (await client.post("/v2/enqueue", json=trigger(svc["key"]))).json()
    assert again["dedup_key"] != body["dedup_key"]


async def test_severity_mapping_and_fields(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    mapping = {"critical": "critical", "error": "high", "warning": "medium", "info": "low"}
    for pd_severity, ours in mapping.items():
        event = trigger(
            svc["key"],
            dedup_key=f"sev-{pd_severity}",
            payload={"severity": pd_severity, "component": "api", "custom_details": {"a": 1}},
        )
        assert (await client.post("/v2/enqueue", json=event)).status_code == 202
        listing = (await client.get("/api/v1/incidents", params={"severity": ours})).json()
        assert listing["total"] == 1, pd_severity
        detail = (await client.get(f"/api/v1/incidents/{listing['items'][0]['id']}")).json()
        alert = detail["alerts"][0]
        assert alert["dedup_key"] == f"sev-{pd_severity}"
        assert alert["labels"] == {"component": "api"}
        assert alert["details"]["custom_details"] == {"a": 1}


async def test_acknowledge_and_resolve_by_dedup_key(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    await client.post("/v2/enqueue", json=trigger(svc["key"], dedup_key="pd-1"))
    repeat = await client.post("/v2/enqueue", json=trigger(svc["key"], dedup_key="pd-1"))
    assert repeat.json()["dedup_key"] == "pd-1"
    incident = (await client.get("/api/v1/incidents")).json()["items"][0]
    assert incident["alert_count"] == 1
    ack = {"routing_key": svc["key"], "event_action": "acknowledge", "dedup_key": "pd-1"}
    assert (await client.post("/v2/enqueue", json=ack)).status_code == 202
    incident = (await client.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert incident["status"] == "acknowledged"
    assert incident["mtta_seconds"] is not None
    resolve = {**ack, "event_action": "resolve"}
    assert (await client.post("/v2/enqueue", json=resolve)).status_code == 202
    incident = (await client.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert incident["status"] == "resolved"
    # after a resolve, the same key opens a new alert and incident
    await client.post("/v2/enqueue", json=trigger(svc["key"], dedup_key="pd-1"))
    assert (await client.get("/api/v1/incidents")).json()["total"] == 2


async def test_acknowledge_under_another_routing_key_does_nothing(
    client: httpx.AsyncClient,
) -> None:
    one = await new_service(client, "one")
    two = await new_service(client, "two")
    await client.post("/v2/enqueue", json=trigger(one["key"], dedup_key="shared"))
    ack = {"routing_key": two["key"], "event_action": "acknowledge", "dedup_key": "shared"}
    assert (await client.post("/v2/enqueue", json=ack)).status_code == 202
    incident = (await client.get("/api/v1/incidents")).json()["items"][0]
    assert incident["status"] == "triggered"


async def test_invalid_events_answer_like_pagerduty(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    cases = [
        ({"event_action": "trigger"}, "routing_key"),
        (trigger(svc["key"], payload={"severity": "fatal"}), "payload.severity"),
        ({"routing_key": svc["key"], "event_action": "trigger"}, "payload"),
        ({"routing_key": svc["key"], "event_action": "resolve"}, "dedup_key"),
        (trigger(svc["key"], payload={"summary": "x" * 1025}), "payload.summary"),
        (trigger("not-a-key"), "routing_key"),
        ({"routing_key": svc["key"], "event_action": "explode"}, "event_action"),
    ]
    for body, field in cases:
        response = await client.post("/v2/enqueue", json=body)
        assert response.status_code == 400, body
        answer = response.json()
        assert answer["status"] == "invalid event"
        assert answer["message"] == "Event object is invalid"
        assert any(field in error for error in answer["errors"]), (field, answer)
    malformed = await client.post("/v2/enqueue", content=b"{nope")
    assert malformed.status_code == 400
    assert malformed.json()["status"] == "invalid event"
    assert (await client.get("/api/v1/incidents")).json()["total"] == 0
