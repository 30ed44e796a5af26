"""Services and integration keys: /api/v1/services."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from oncallnova.runtime.container import Runtime
from tests.conftest import new_service


async def test_create_defaults_and_first_key(client: httpx.AsyncClient) -> None:
    svc = await new_service(client, description="the shop")
    assert svc["correlation_key"] == ["service", "severity"]
    assert svc["correlation_window_seconds"] == 300
    assert svc["description"] == "the shop"
    assert len(svc["integration_keys"]) == 1
    assert len(svc["key"]) == 32
    fetched = (await client.get(f"/api/v1/services/{svc['id']}")).json()
    assert fetched["integration_keys"][0]["key"] == svc["key"]
    listing = (await client.get("/api/v1/services")).json()
    assert [s["name"] for s in listing["items"]] == ["checkout"]


async def test_update_and_validation(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    patched = await client.patch(
        f"/api/v1/services/{svc['id']}",
        json={"correlation_key": ["service", "labels.cluster"], "correlation_window_seconds": 60},
    )
    assert patched.status_code == 200
    assert patched.json()["correlation_key"] == ["service", "labels.cluster"]
    assert patched.json()["correlation_window_seconds"] == 60
    for bad, field in [
        ({"correlation_key": []}, "correlation_key"),
        ({"correlation_window_seconds": -1}, "correlation_window_seconds"),
        ({"colour": "red"}, "colour"),
    ]:
        response = await client.patch(f"/api/v1/services/{svc['id']}", json=bad)
        assert response.status_code == 422
        assert field in response.json()["detail"]


async def test_names_are_unique(client: httpx.AsyncClient) -> None:
    await new_service(client)
    again = await client.post("/api/v1/services", json={"name": "checkout"})
    assert again.status_code == 409
    assert "checkout" in again.json()["detail"]
    blank = await client.post("/api/v1/services", json={"name": "  "})
    assert blank.status_code == 422


async def test_keys_can_be_added_and_revoked(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    added = await client.post(
        f"/api/v1/services/{svc['id']}/integration-keys", json={"name": "grafana"}
    )
    assert added.status_code == 201
    new_key = added.json()["key"]
    alert = {"title": "x", "severity": "low"}
    ok = await client.post("/api/v1/alerts", json=alert, headers={"X-Routing-Key": new_key})
    assert ok.status_code == 202
    await client.delete(f"/api/v1/services/{svc['id']}/integration-keys/{added.json()['id']}")
    refused = await client.post("/api/v1/alerts", json=alert, headers={"X-Routing-Key": new_key})
    assert refused.status_code == 401
    # the other key still works
    still = await client.post("/api/v1/alerts", json=alert, headers={"X-Routing-Key": svc["key"]})
    assert still.status_code == 202
    gone = await client.delete(f"/api/v1/services/{svc['id']}/integration-keys/nope")
    assert gone.status_code == 404


async def test_delete_refused_while_incidents_are_open(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    response = await client.post(
        "/api/v1/alerts",
        json={"title": "x", "severity": "low"},
        headers={"X-Routing-Key": svc["key"]},
    )
    incident_id = response.json()["alerts"][0]["incident_id"]
    refused = await client.delete(f"/api/v1/services/{svc['id']}")
    assert refused.status_code == 409
    assert "open incident" in refused.json()["detail"]
    await client.post(f"/api/v1/incidents/{incident_id}/resolve")
    assert (await client.delete(f"/api/v1/services/{svc['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/services/{svc['id']}")).status_code == 404
    gone = await client.post(
        "/api/v1/alerts",
        json={"title": "x", "severity": "low"},
        headers={"X-Routing-Key": svc["key"]},
    )
    assert gone.status_code == 401


@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_delete_that_deadlocks_is_tried_again(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """The delete cascades through rows the engine may hold: PostgreSQL ends one side of a
    deadlock, and when that is the delete, it starts again instead of answering 500."""
    svc = await new_service(client)
    response = await client.post(
        "/api/v1/alerts",
        json={"title": "x", "severity": "low"},
        headers={"X-Routing-Key": svc["key"]},
    )
    incident_id = response.json()["alerts"][0]["incident_id"]
    await client.post(f"/api/v1/incidents/{incident_id}/resolve")
    other = await asyncpg.connect(database_url)
    watcher = await asyncpg.connect(database_url)
    try:
        # The other side waits 10 s before looking for a deadlock, so the delete's
        # backend (1 s, the default) finds it and is the one ended.
        await other.execute("SET deadlock_timeout = '10s'")
        async with other.transaction():
            await other.execute("UPDATE incidents SET title = title WHERE id = $1", incident_id)
            delete = asyncio.create_task(client.delete(f"/api/v1/services/{svc['id']}"))
            await _until_a_backend_waits_for_a_lock(watcher)
            # Holds the incident, now asks for the service the delete holds: a cycle.
            await other.execute("UPDATE services SET name = name WHERE id = $1", svc["id"])
        answer = await asyncio.wait_for(delete, 30)
    finally:
        await other.close()
        await watcher.close()
    assert answer.status_code == 204, answer.text
    assert (await client.get(f"/api/v1/services/{svc['id']}")).status_code == 404


async def _until_a_backend_waits_for_a_lock(conn: asyncpg.Connection) -> None:
    query = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):
        if await conn.fetchval(query):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the delete never waited for the incident's lock")


@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_conflict_that_outlasts_the_retries_is_a_503_to_send_again(
    client: httpx.AsyncClient, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = await new_service(client)

    async def conflicted(*_: object) -> None:
        async with rt.db.write() as session:  # PostgreSQL's own error, as a deadlock ends
            await session.execute(text(DEADLOCK))

    monkeypatch.setattr(rt.services, "delete", conflicted)
    answer = await client.delete(f"/api/v1/services/{svc['id']}")
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["detail"].endswith("nothing was applied")


DEADLOCK = "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$"
