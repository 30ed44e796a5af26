"""Fields an alert or a service names that OnCallNova does not know are never silently
dropped: unknown alert fields are named in the 202 answer's warnings, an unknown
correlation key field is refused."""

from __future__ import annotations

import httpx

from tests.conftest import new_service


async def test_native_unknown_field_is_accepted_with_a_warning(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    alert = {"title": "CPU", "severity": "high", "dedupkey": "cpu-1"}
    response = await client.post(
        "/api/v1/alerts", json=alert, headers={"X-Routing-Key": svc["key"]}
    )
    assert response.status_code == 202
    body = response.json()
    assert body["warnings"] == ["dedupkey: unknown field, ignored; did you mean 'dedup_key'?"]
    # The typo fell back to hashing: the fingerprint is not the key the sender meant.
    assert body["alerts"][0]["fingerprint"] != "cpu-1"


async def test_batch_warnings_name_the_alert(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    batch = [
        {"title": "a", "severity": "low"},
        {"title": "b", "severity": "low", "sevrity": "high", "colour": "red"},
    ]
    response = await client.post(
        "/api/v1/alerts", json=batch, headers={"X-Routing-Key": svc["key"]}
    )
    assert response.status_code == 202
    assert response.json()["warnings"] == [
        "alerts[1].sevrity: unknown field, ignored; did you mean 'severity'?",
        "alerts[1].colour: unknown field, ignored",
    ]


async def test_known_fields_give_no_warnings(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    alert = {"title": "a", "severity": "low", "dedup_key": "k", "details": {"n": 1}}
    response = await client.post(
        "/api/v1/alerts", json=alert, headers={"X-Routing-Key": svc["key"]}
    )
    assert response.status_code == 202
    assert response.json()["warnings"] == []


async def test_pagerduty_unknown_fields_are_named(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    event = {
        "routing_key": svc["key"],
        "event_action": "trigger",
        "dedupkey": "x",
        "payload": {"summary": "s", "source": "h", "severity": "info", "custom_detail": {}},
    }
    response = await client.post("/v2/enqueue", json=event)
    assert response.status_code == 202
    assert response.json()["warnings"] == [
        "dedupkey: unknown field, ignored; did you mean 'dedup_key'?",
        "payload.custom_detail: unknown field, ignored; did you mean 'custom_details'?",
    ]
    clean = {**event, "payload": {"summary": "s", "source": "h", "severity": "info"}}
    del clean["dedupkey"]
    answer = (await client.post("/v2/enqueue", json=clean)).json()
    assert "warnings" not in answer  # exactly PagerDuty's answer when nothing is ignored


async def test_correlation_key_must_name_a_known_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/services", json={"name": "x", "correlation_key": ["service", "cluster"]}
    )
    assert response.status_code == 422
    assert "'cluster' is not a field alerts have" in response.json()["detail"]
    assert "labels.cluster" in response.json()["detail"]
    svc = await new_service(client)
    patch = await client.patch(
        f"/api/v1/services/{svc['id']}", json={"correlation_key": ["sevrity"]}
    )
    assert patch.status_code == 422 and "'sevrity'" in patch.json()["detail"]
    for good in (["service", "severity"], ["source", "title", "labels.cluster"]):
        ok = await client.patch(f"/api/v1/services/{svc['id']}", json={"correlation_key": good})
        assert ok.status_code == 200 and ok.json()["correlation_key"] == good
