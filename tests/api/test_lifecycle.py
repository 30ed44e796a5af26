"""Incident lifecycle: acknowledge, resolve, notes, MTTA/MTTR, listing."""

from __future__ import annotations

import httpx

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.conftest import new_service, sign_in


async def open_incident(client: httpx.AsyncClient, key: str, title: str = "boom") -> str:
    response = await client.post(
        "/api/v1/alerts",
        json={"title": title, "severity": "critical"},
        headers={"X-Routing-Key": key},
    )
    return str(response.json()["alerts"][0]["incident_id"])


async def test_acknowledge_then_resolve_records_mtta_and_mttr(
    client: httpx.AsyncClient, clock: FakeClock, rt: Runtime
) -> None:
    svc = await new_service(client)
    incident_id = await open_incident(client, svc["key"])
    clock.advance(90)
    alice = {
        "Authorization": "Bearer " + await sign_in(rt, "alice@example.com", "responder", "Alice")
    }
    bob = {"Authorization": "Bearer " + await sign_in(rt, "bob@example.com", "responder", "Bob")}
    ack = await client.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=alice)
    assert ack.status_code == 200
    assert ack.json()["status"] == "acknowledged"
    assert ack.json()["mtta_seconds"] == 90
    assert ack.json()["acknowledged_by"] == "Alice"
    clock.advance(210)
    done = await client.post(
        f"/api/v1/incidents/{incident_id}/resolve", json={"message": "fixed"}, headers=bob
    )
    assert done.status_code == 200
    assert done.json()["mttr_seconds"] == 300
    assert done.json()["mtta_seconds"] == 90
    detail = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    kinds = [(e["kind"], e["actor"]) for e in detail["timeline"]]
    assert kinds == [
        ("triggered", "integration:checkout"),
        ("acknowledged", "Alice"),
        ("resolved", "Bob"),
    ]
    assert detail["timeline"][-1]["message"] == "fixed"
    # resolving the incident resolves its alerts
    assert [a["status"] for a in detail["alerts"]] == ["resolved"]


async def test_resolve_without_acknowledge(client: httpx.AsyncClient, clock: FakeClock) -> None:
    svc = await new_service(client)
    incident_id = await open_incident(client, svc["key"])
    clock.advance(60)
    body = (await client.post(f"/api/v1/incidents/{incident_id}/resolve")).json()
    assert body["status"] == "resolved"
    assert body["mtta_seconds"] is None
    assert body["mttr_seconds"] == 60
    assert body["resolved_by"] == "Admin"


async def test_illegal_transitions_get_409(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    incident_id = await open_incident(client, svc["key"])
    base = f"/api/v1/incidents/{incident_id}"
    assert (await client.post(f"{base}/acknowledge")).status_code == 200
    again = await client.post(f"{base}/acknowledge")
    assert again.status_code == 409
    assert "already acknowledged" in again.json()["detail"]
    assert (await client.post(f"{base}/resolve")).status_code == 200
    for action in ("acknowledge", "resolve"):
        response = await client.post(f"{base}/{action}")
        assert response.status_code == 409
        assert "resolved" in response.json()["detail"]
    detail = (await client.get(base)).json()
    assert [e["kind"] for e in detail["timeline"]] == ["triggered", "acknowledged", "resolved"]


async def test_notes_on_the_timeline(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    incident_id = await open_incident(client, svc["key"])
    note = await client.post(f"/api/v1/incidents/{incident_id}/notes", json={"message": "looking"})
    assert note.status_code == 201
    assert note.json()["kind"] == "note"
    timeline = (await client.get(f"/api/v1/incidents/{incident_id}")).json()["timeline"]
    assert timeline[-1]["message"] == "looking"
    assert timeline[-1]["actor"] == "Admin"
    empty = await client.post(f"/api/v1/incidents/{incident_id}/notes", json={"message": ""})
    assert empty.status_code == 422
    missing = await client.post("/api/v1/incidents/nope/notes", json={"message": "x"})
    assert missing.status_code == 404


async def test_unknown_incident_is_404(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/incidents/nope"),
        ("POST", "/api/v1/incidents/nope/acknowledge"),
        ("POST", "/api/v1/incidents/nope/resolve"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 404
        assert "nope" in response.json()["detail"]


async def test_listing_filters_and_pagination(client: httpx.AsyncClient, clock: FakeClock) -> None:
    one = await new_service(client, "one")
    two = await new_service(client, "two")
    ids = []
    for n in range(5):
        ids.append(await open_incident(client, one["key"] if n % 2 else two["key"], f"t{n}"))
        clock.advance(1000)  # past the window: every alert opens its own incident
    await client.post(f"/api/v1/incidents/{ids[0]}/acknowledge")
    await client.post(f"/api/v1/incidents/{ids[1]}/resolve")
    everything = (await client.get("/api/v1/incidents")).json()
    assert [i["id"] for i in everything["items"]] == list(reversed(ids))
    page = (await client.get("/api/v1/incidents", params={"limit": 2, "offset": 2})).json()
    assert [i["id"] for i in page["items"]] == [ids[2], ids[1]]
    assert page["total"] == 5
    open_only = (
        await client.get(
            "/api/v1/incidents", params=[("status", "triggered"), ("status", "acknowledged")]
        )
    ).json()
    assert {i["id"] for i in open_only["items"]} == {ids[0], ids[2], ids[3], ids[4]}
    by_service = (await client.get("/api/v1/incidents", params={"service_id": one["id"]})).json()
    assert {i["id"] for i in by_service["items"]} == {ids[1], ids[3]}
    created = [i["created_at"] for i in everything["items"]]
    window = (
        await client.get("/api/v1/incidents", params={"since": created[3], "until": created[1]})
    ).json()
    assert [i["id"] for i in window["items"]] == [ids[2], ids[1]]
    bad = await client.get("/api/v1/incidents", params={"status": "burning"})
    assert bad.status_code == 422
    assert "status" in bad.json()["detail"]
