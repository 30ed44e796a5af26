"""Bad input gets a 4xx naming the problem, and nothing of the request is stored."""

from __future__ import annotations

import httpx
import pytest

from oncallnova.runtime.container import Runtime
from tests.conftest import RuntimeFactory, api_client, new_service


async def nothing_stored(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/incidents")).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        (b'{"title": ', 400, "JSON"),
        (b"not json at all", 400, "JSON"),
        (b"", 400, "empty"),
        (b'{"severity": "high"}', 422, "title"),
        (b'{"title": "x"}', 422, "severity"),
        (b'{"title": "x", "severity": "urgent"}', 422, "severity"),
        (b'{"title": "", "severity": "low"}', 422, "title"),
        (b'{"title": "x", "severity": "low", "labels": {"a": 1}}', 422, "labels.a"),
        (b'{"title": "x", "severity": "low", "status": "gone"}', 422, "status"),
        (b'{"title": "x", "severity": "low", "timestamp": "yesterday"}', 422, "timestamp"),
        (b"[]", 422, "empty batch"),
        (b"42", 422, "object"),
    ],
)
async def test_malformed_or_wrong_alerts(
    client: httpx.AsyncClient, body: bytes, status: int, names: str
) -> None:
    svc = await new_service(client)
    response = await client.post(
        "/api/v1/alerts",
        content=body,
        headers={"X-Routing-Key": svc["key"], "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert names.lower() in response.text.lower()
    await nothing_stored(client)


async def test_one_bad_alert_refuses_the_whole_batch(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    batch = [{"title": "good", "severity": "low"}, {"title": "bad", "severity": "nope"}]
    response = await client.post(
        "/api/v1/alerts", json=batch, headers={"X-Routing-Key": svc["key"]}
    )
    assert response.status_code == 422
    assert "alerts[1].severity" in response.json()["detail"]
    await nothing_stored(client)


async def test_missing_unknown_and_revoked_keys(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    alert = {"title": "x", "severity": "low"}
    missing = await client.post("/api/v1/alerts", json=alert)
    assert missing.status_code == 401
    assert "X-Routing-Key" in missing.json()["detail"]
    unknown = await client.post("/api/v1/alerts", json=alert, headers={"X-Routing-Key": "nope"})
    assert unknown.status_code == 401
    key_id = svc["integration_keys"][0]["id"]
    revoked = await client.delete(f"/api/v1/services/{svc['id']}/integration-keys/{key_id}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = await client.post("/api/v1/alerts", json=alert, headers={"X-Routing-Key": svc["key"]})
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    await nothing_stored(client)


async def test_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    big = {"title": "x", "severity": "low", "description": "y" * (600 * 1024)}
    response = await client.post("/api/v1/alerts", json=big, headers={"X-Routing-Key": svc["key"]})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]

    async def chunks() -> object:  # no Content-Length: counted as it streams
        for _ in range(12):
            yield b" " * 65536

    streamed = await client.post(
        "/api/v1/alerts", content=chunks(), headers={"X-Routing-Key": svc["key"]}
    )
    assert streamed.status_code == 413
    pd = await client.post("/v2/enqueue", content=b"{" + b" " * (513 * 1024) + b"}")
    assert pd.status_code == 413
    await nothing_stored(client)


async def test_batch_over_the_limit(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    batch = [{"title": f"a{n}", "severity": "low"} for n in range(1001)]
    response = await client.post(
        "/api/v1/alerts", json=batch, headers={"X-Routing-Key": svc["key"]}
    )
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]
    await nothing_stored(client)


async def test_full_queue_answers_429(make_runtime: RuntimeFactory) -> None:
    rt: Runtime = await make_runtime(INGEST_QUEUE_LIMIT="5")
    async with api_client(rt) as c:
        svc = await new_service(c)
        batch = [{"title": f"a{n}", "severity": "low"} for n in range(6)]
        response = await c.post("/api/v1/alerts", json=batch, headers={"X-Routing-Key": svc["key"]})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert (await c.get("/api/v1/incidents")).json()["total"] == 0
