"""Native ingestion: POST /api/v1/alerts."""

from __future__ import annotations

import httpx

from oncallnova.core.clock import FakeClock
from tests.conftest import new_service


async def post(client: httpx.AsyncClient, key: str, body: object) -> httpx.Response:
    return await client.post("/api/v1/alerts", json=body, headers={"X-Routing-Key": key})


async def test_one_alert_opens_an_incident(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    response = await post(client, svc["key"], {"title": "CPU high", "severity": "critical"})
    assert response.status_code == 202
    result = response.json()["alerts"][0]
    assert result["deduplicated"] is False
    assert len(result["fingerprint"]) == 64
    incident = (await client.get(f"/api/v1/incidents/{result['incident_id']}")).json()
    assert incident["status"] == "triggered"
    assert incident["severity"] == "critical"
    assert incident["service_name"] == "checkout"
    assert [a["id"] for a in incident["alerts"]] == [result["alert_id"]]
    assert incident["timeline"][0]["kind"] == "triggered"


async def test_repeat_of_open_alert_is_deduplicated(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    alert = {"title": "Disk full", "severity": "high", "labels": {"host": "db1"}}
    first = (await post(client, svc["key"], alert)).json()["alerts"][0]
    second = (await post(client, svc["key"], alert)).json()["alerts"][0]
    assert second["deduplicated"] is True
    assert second["alert_id"] == first["alert_id"]
    assert second["incident_id"] == first["incident_id"]
    detail = (await client.get(f"/api/v1/incidents/{first['incident_id']}")).json()
    assert detail["alerts"][0]["count"] == 2
    listing = (await client.get("/api/v1/incidents")).json()
    assert listing["total"] == 1


async def test_dedup_key_wins_over_fields(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    a = {"title": "one", "severity": "low", "dedup_key": "k-1"}
    b = {"title": "renamed", "severity": "low", "dedup_key": "k-1"}
    r1 = (await post(client, svc["key"], a)).json()["alerts"][0]
    r2 = (await post(client, svc["key"], b)).json()["alerts"][0]
    assert r2["deduplicated"] and r2["alert_id"] == r1["alert_id"]
    assert r1["fingerprint"] == "k-1"


async def test_batch_in_one_request(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    batch = [{"title": f"alert {n}", "severity": "medium"} for n in range(50)]
    batch.append({"title": "alert 0", "severity": "medium"})
    body = (await post(client, svc["key"], batch)).json()
    assert body["accepted"] == 51
    results = body["alerts"]
    assert len({r["alert_id"] for r in results}) == 50
    assert results[-1]["deduplicated"] is True
    assert results[-1]["alert_id"] == results[0]["alert_id"]
    # same service and severity within the window: one incident
    assert len({r["incident_id"] for r in results}) == 1
    incident = (await client.get(f"/api/v1/incidents/{results[0]['incident_id']}")).json()
    assert incident["alert_count"] == 50


async def test_resolved_status_resolves_the_alert_and_incident(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    alert = {"title": "Latency", "severity": "high", "dedup_key": "lat"}
    opened = (await post(client, svc["key"], alert)).json()["alerts"][0]
    closed = (await post(client, svc["key"], {**alert, "status": "resolved"})).json()["alerts"][0]
    assert closed["status"] == "resolved"
    assert closed["alert_id"] == opened["alert_id"]
    incident = (await client.get(f"/api/v1/incidents/{opened['incident_id']}")).json()
    assert incident["status"] == "resolved"
    assert incident["resolved_by"] == "integration:checkout"
    assert incident["timeline"][-1]["kind"] == "resolved"
    # after the resolve, the same key opens a new alert and a new incident
    again = (await post(client, svc["key"], alert)).json()["alerts"][0]
    assert again["deduplicated"] is False
    assert again["alert_id"] != opened["alert_id"]
    assert again["incident_id"] != opened["incident_id"]


async def test_resolve_of_unknown_alert_is_ignored(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    body = {"title": "x", "severity": "low", "dedup_key": "never-opened", "status": "resolved"}
    response = await post(client, svc["key"], body)
    assert response.status_code == 202
    assert response.json()["alerts"][0] == {
        "alert_id": None,
        "incident_id": None,
        "deduplicated": False,
        "fingerprint": "never-opened",
        "status": "ignored",
    }
    assert (await client.get("/api/v1/incidents")).json()["total"] == 0


async def test_trigger_and_resolve_in_one_batch_keep_their_order(
    client: httpx.AsyncClient,
) -> None:
    svc = await new_service(client)
    a = {"title": "flap", "severity": "low", "dedup_key": "flap"}
    batch = [a, {**a, "status": "resolved"}, a]
    results = (await post(client, svc["key"], batch)).json()["alerts"]
    assert [r["status"] for r in results] == ["firing", "resolved", "firing"]
    assert results[0]["alert_id"] == results[1]["alert_id"]
    assert results[2]["alert_id"] != results[0]["alert_id"]
    first = (await client.get(f"/api/v1/incidents/{results[0]['incident_id']}")).json()
    assert first["status"] == "resolved"
    assert results[2]["incident_id"] != results[0]["incident_id"]


async def test_auto_resolve_waits_for_every_alert(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    a = {"title": "a", "severity": "high", "dedup_key": "a"}
    b = {"title": "b", "severity": "high", "dedup_key": "b"}
    ra = (await post(client, svc["key"], a)).json()["alerts"][0]
    rb = (await post(client, svc["key"], b)).json()["alerts"][0]
    assert ra["incident_id"] == rb["incident_id"]
    await post(client, svc["key"], {**a, "status": "resolved"})
    incident = (await client.get(f"/api/v1/incidents/{ra['incident_id']}")).json()
    assert incident["status"] == "triggered"
    await post(client, svc["key"], {**b, "status": "resolved"})
    incident = (await client.get(f"/api/v1/incidents/{ra['incident_id']}")).json()
    assert incident["status"] == "resolved"
    assert incident["mttr_seconds"] is not None


async def test_correlation_window_edges(client: httpx.AsyncClient, clock: FakeClock) -> None:
    svc = await new_service(client, correlation_window_seconds=300)
    first = (await post(client, svc["key"], {"title": "a", "severity": "high"})).json()
    clock.advance(300)  # exactly at the window's end: still joins
    second = (await post(client, svc["key"], {"title": "b", "severity": "high"})).json()
    assert second["alerts"][0]["incident_id"] == first["alerts"][0]["incident_id"]
    clock.advance(300)  # the window counts from the last alert, so this joins too
    third = (await post(client, svc["key"], {"title": "c", "severity": "high"})).json()
    assert third["alerts"][0]["incident_id"] == first["alerts"][0]["incident_id"]
    clock.advance(300.001)  # just past it: a new incident
    fourth = (await post(client, svc["key"], {"title": "d", "severity": "high"})).json()
    assert fourth["alerts"][0]["incident_id"] != first["alerts"][0]["incident_id"]


async def test_correlation_key_default_splits_by_severity(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    hi = (await post(client, svc["key"], {"title": "a", "severity": "high"})).json()
    lo = (await post(client, svc["key"], {"title": "b", "severity": "low"})).json()
    assert hi["alerts"][0]["incident_id"] != lo["alerts"][0]["incident_id"]


async def test_correlation_key_on_a_label(client: httpx.AsyncClient) -> None:
    svc = await new_service(client, correlation_key=["service", "labels.cluster"])
    a = {"title": "a", "severity": "low", "labels": {"cluster": "eu"}}
    b = {"title": "b", "severity": "critical", "labels": {"cluster": "eu"}}
    c = {"title": "c", "severity": "low", "labels": {"cluster": "us"}}
    ra, rb, rc = [(await post(client, svc["key"], x)).json()["alerts"][0] for x in (a, b, c)]
    assert ra["incident_id"] == rb["incident_id"] != rc["incident_id"]
    incident = (await client.get(f"/api/v1/incidents/{ra['incident_id']}")).json()
    assert incident["severity"] == "critical"  # the worst alert's severity


async def test_services_do_not_share_incidents(client: httpx.AsyncClient) -> None:
    one = await new_service(client, "one")
    two = await new_service(client, "two")
    alert = {"title": "same", "severity": "high", "dedup_key": "same"}
    r1 = (await post(client, one["key"], alert)).json()["alerts"][0]
    r2 = (await post(client, two["key"], alert)).json()["alerts"][0]
    assert r2["deduplicated"] is False
    assert r1["incident_id"] != r2["incident_id"]
