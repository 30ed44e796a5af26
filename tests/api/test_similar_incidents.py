"""GET /api/v1/incidents/{id}/similar: earlier incidents of the same service and
correlation key, how they were resolved and how long they took."""

from __future__ import annotations

import httpx

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import alert
from tests.conftest import api_client, new_service, sign_in


async def _alert(client: httpx.AsyncClient, key: str, title: str, severity: str) -> str:
    response = await client.post(
        "/api/v1/alerts",
        json={"title": title, "severity": severity},
        headers={"X-Routing-Key": key},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["alerts"][0]["incident_id"])


async def test_similar_lists_earlier_incidents_of_the_same_key_with_their_resolution(
    rt: Runtime, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await new_service(client, "shop")
    other = await new_service(client, "other")
    first = await alert(client, shop["key"], "disk full")
    assert await alert(client, shop["key"], "disk at 99%") == first  # joins it
    clock.advance(60)
    await client.post(f"/api/v1/incidents/{first}/acknowledge")
    for n in range(12):
        await client.post(f"/api/v1/incidents/{first}/notes", json={"message": f"note {n}"})
    clock.advance(240)
    await client.post(f"/api/v1/incidents/{first}/resolve", json={"message": "Freed /var"})
    clock.advance(60)
    second = await alert(client, shop["key"], "disk full again")
    clock.advance(600)
    await client.post(f"/api/v1/incidents/{second}/resolve")
    clock.advance(60)
    await _alert(client, shop["key"], "slow disk", "low")  # another key: other severity
    await alert(client, other["key"], "disk full")  # another service
    clock.advance(60)
    current = await alert(client, shop["key"], "disk full")
    clock.advance(60)
    await client.post(f"/api/v1/incidents/{current}/resolve")
    await alert(client, shop["key"], "disk full")  # later: not in the past of `current`

    number = (await client.get(f"/api/v1/incidents/{current}")).json()["number"]
    response = await client.get(f"/api/v1/incidents/{number}/similar")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["incident_id"], body["incident_number"]) == (current, number)
    assert (body["service_id"], body["service_name"]) == (shop["id"], "shop")
    assert (body["total"], body["resolved"]) == (2, 2)
    assert (body["mean_mtta_seconds"], body["mean_mttr_seconds"]) == (60.0, (300 + 600) / 2)
    items = body["items"]
    assert [i["id"] for i in items] == [second, first]
    assert [i["resolution"] for i in items] == ["Resolved", "Freed /var"]
    assert [i["mttr_seconds"] for i in items] == [600.0, 300.0]
    assert items[0]["notes"] == []
    assert [n["message"] for n in items[1]["notes"]] == [f"note {n}" for n in range(2, 12)]
    assert items[1]["acknowledged_by"] == "Admin"
    assert (items[1]["alert_count"], items[1]["other_titles"]) == (2, ["disk at 99%"])

    limited = (await client.get(f"/api/v1/incidents/{current}/similar?limit=1")).json()
    assert [i["id"] for i in limited["items"]] == [second]
    assert limited["total"] == 2
    first_ever = (await client.get(f"/api/v1/incidents/{first}/similar")).json()
    assert (first_ever["total"], first_ever["items"]) == (0, [])

    viewer = await sign_in(rt, "viewer@example.com", "viewer")
    async with api_client(rt, viewer) as as_viewer:
        assert (await as_viewer.get(f"/api/v1/incidents/{current}/similar")).status_code == 200


async def test_similar_refuses_unknown_incidents_and_bad_limits(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/incidents/nope/similar")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "incident nope not found"
    shop = await new_service(client, "shop")
    incident = await alert(client, shop["key"])
    for limit in (0, 51):
        bad = await client.get(f"/api/v1/incidents/{incident}/similar?limit={limit}")
        assert bad.status_code == 422
        assert "limit" in bad.text
