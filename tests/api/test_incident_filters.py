"""Incident list filters (team, text, severity, status), triage order and counts."""

from __future__ import annotations

import httpx

from oncallnova.core.clock import FakeClock
from tests.conftest import new_service


async def open_incident(
    client: httpx.AsyncClient, key: str, title: str, severity: str = "high"
) -> str:
    response = await client.post(
        "/api/v1/alerts",
        headers={"X-Routing-Key": key},
        json={"title": title, "severity": severity},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["alerts"][0]["incident_id"])


async def test_filters_order_and_counts(client: httpx.AsyncClient, clock: FakeClock) -> None:
    team = (await client.post("/api/v1/teams", json={"name": "payments"})).json()
    payments = await new_service(client, "payments", team_id=team["id"])
    search = await new_service(client, "search")
    low = await open_incident(client, payments["key"], "Refunds slow", "low")
    clock.advance(10)
    critical = await open_incident(client, payments["key"], "Card charges FAILING", "critical")
    clock.advance(10)
    done = await open_incident(client, search["key"], "Index stale", "critical")
    clock.advance(10)
    newest = await open_incident(client, search["key"], "Search 100% slow", "medium")
    assert (await client.post(f"/api/v1/incidents/{done}/resolve")).status_code == 200
    assert (await client.post(f"/api/v1/incidents/{low}/acknowledge")).status_code == 200

    async def ids(**params: object) -> list[str]:
        response = await client.get("/api/v1/incidents", params=params)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert await ids() == [newest, done, critical, low]  # newest first
    # triage: triggered, then acknowledged, then resolved; by severity; newest first
    assert await ids(order="triage") == [critical, newest, low, done]
    assert await ids(team_id=team["id"]) == [critical, low]
    assert await ids(q="failing") == [critical]  # any case
    assert await ids(q="100%") == [newest]  # LIKE wildcards are matched literally
    assert await ids(q="%") == [newest]
    assert await ids(severity=["critical", "low"], status="triggered") == [critical]

    counts = await client.get("/api/v1/incidents/counts", params={"team_id": team["id"]})
    assert counts.json() == {"triggered": 1, "acknowledged": 1, "resolved": 0}
    everything = await client.get("/api/v1/incidents/counts", params={"status": "resolved"})
    assert everything.json() == {"triggered": 2, "acknowledged": 1, "resolved": 1}
    bad = await client.get("/api/v1/incidents", params={"order": "random"})
    assert bad.status_code == 422 and "order" in bad.text
