"""Builders for people, schedules and policies used by the escalation tests."""

from __future__ import annotations

from typing import Any

import httpx


async def user(client: httpx.AsyncClient, name: str, **fields: Any) -> str:
    body = {"name": name, "email": f"{name.lower()}@example.com", **fields}
    response = await client.post("/api/v1/users", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def schedule(
    client: httpx.AsyncClient, name: str, layers: list[dict[str, Any]], time_zone: str = "UTC"
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/schedules", json={"name": name, "time_zone": time_zone, "layers": layers}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def policy(
    client: httpx.AsyncClient, name: str, levels: list[dict[str, Any]], repeat: int = 0
) -> str:
    response = await client.post(
        "/api/v1/escalation-policies", json={"name": name, "levels": levels, "repeat": repeat}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def level(delay: int, *targets: tuple[str, str]) -> dict[str, Any]:
    return {"delay_seconds": delay, "targets": [{"type": t, "id": i} for t, i in targets]}


async def alert(client: httpx.AsyncClient, key: str, title: str = "boom") -> str:
    response = await client.post(
        "/api/v1/alerts",
        json={"title": title, "severity": "critical"},
        headers={"X-Routing-Key": key},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["alerts"][0]["incident_id"])


async def pages(client: httpx.AsyncClient, incident_id: str) -> list[tuple[str, int, int]]:
    detail = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    return [(p["user_id"], p["level"], p["round"]) for p in detail["pages"]]
