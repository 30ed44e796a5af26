"""The ingestion routes' own lane (transport/http/direct.py) answers as the full stack does:
the same middlewares around it, the app's error handlers for every failure."""

from __future__ import annotations

import httpx
import pytest

from oncallnova.core.errors import Overloaded
from oncallnova.runtime.container import Runtime
from tests.conftest import new_service

PATHS = ("/api/v1/alerts", "/api/v1/integrations/alertmanager", "/v2/enqueue")


@pytest.fixture
def backend() -> str:
    """The lane does not depend on the database: SQLite is enough."""
    return "sqlite"


async def test_ingestion_answers_carry_the_middlewares_headers(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    sent = await client.post(
        "/api/v1/alerts",
        headers={"X-Routing-Key": svc["key"], "X-Request-ID": "trace-me-42"},
        json={"title": "disk full", "severity": "high"},
    )
    assert sent.status_code == 202, sent.text
    assert sent.headers["x-request-id"] == "trace-me-42"
    assert sent.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in sent.headers
    assert sent.json()["accepted"] == 1
    for path in PATHS:
        refused = await client.post(path, headers={"X-Request-ID": "no-key"}, content=b"{}")
        assert refused.status_code in (400, 401), (path, refused.text)
        assert refused.headers["x-request-id"] == "no-key"
        assert refused.headers["x-frame-options"] == "DENY"


async def test_errors_in_the_lane_use_the_apps_handlers(
    client: httpx.AsyncClient, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = await new_service(client)
    headers = {"X-Routing-Key": svc["key"]}
    alert = {"title": "disk full", "severity": "high"}

    missing = await client.post("/api/v1/alerts", json=alert)
    assert missing.status_code == 401
    assert "integration key" in missing.json()["detail"]

    async def full(*_: object, **__: object) -> None:
        raise Overloaded("ingestion queue is full; retry shortly", retry_after=3)

    monkeypatch.setattr(rt.ingestor, "submit", full)
    busy = await client.post("/api/v1/alerts", headers=headers, json=alert)
    assert busy.status_code == 429
    assert busy.headers["retry-after"] == "3"

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(rt.ingestor, "submit", broken)
    crashed = await client.post("/api/v1/alerts", headers=headers, json=alert)
    assert crashed.status_code == 500
    assert crashed.json() == {"detail": "internal error; the request was not applied"}
    assert crashed.headers["x-content-type-options"] == "nosniff"


async def test_other_methods_and_paths_take_the_full_stack(client: httpx.AsyncClient) -> None:
    wrong_method = await client.get("/api/v1/alerts")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["x-content-type-options"] == "nosniff"
    near_miss = await client.post("/api/v1/alerts/extra", json={})
    assert near_miss.status_code == 404
