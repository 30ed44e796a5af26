"""Ingestion under a storm: a full queue refuses at once, before a body is read or
parsed, and the native route takes its key from `?routing_key=` as the Alertmanager
route does."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from oncallnova.runtime.container import Runtime
from tests.conftest import RuntimeFactory, api_client, new_service

NOT_JSON = b'[{"title": "unfinished'
ROUTES = ("/api/v1/alerts", "/api/v1/integrations/alertmanager")


@pytest.fixture
def backend() -> str:
    """The queue does not depend on the database; SQLite lets the test hold its lock."""
    return "sqlite"


@contextmanager
def writer_blocked(rt: Runtime) -> Iterator[None]:
    """Holds the SQLite write lock, so that queued alerts wait for the writer."""
    path = rt.settings.database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def batch(n: int, prefix: str) -> list[dict[str, str]]:
    return [{"title": f"{prefix} {i}", "severity": "low"} for i in range(n)]


async def test_a_full_queue_refuses_before_parsing(make_runtime: RuntimeFactory) -> None:
    rt = await make_runtime(INGEST_QUEUE_LIMIT="10")
    async with api_client(rt) as client:
        svc = await new_service(client)
        key = {"X-Routing-Key": svc["key"]}
        with writer_blocked(rt):
            waiting = asyncio.create_task(
                client.post("/api/v1/alerts", json=batch(6, "first"), headers=key)
            )
            await asyncio.sleep(0.2)  # the six alerts are queued behind the lock
            assert not waiting.done()
            overflow = await client.post("/api/v1/alerts", json=batch(6, "second"), headers=key)
            assert overflow.status_code == 429
            # From now on the queue counts as full: bodies are refused unread, so even
            # one that is not JSON gets 429 rather than 400.
            for path in ROUTES:
                refused = await client.post(path, content=NOT_JSON, headers=key)
                assert refused.status_code == 429, (path, refused.text)
                assert refused.headers["Retry-After"] == "1"
            pagerduty = await client.post("/v2/enqueue", content=NOT_JSON)
            assert pagerduty.status_code == 429
            assert pagerduty.json()["status"] == "throttle event"
        first = await waiting
        assert first.status_code == 202, first.text
        # The backlog has drained: bodies are read and judged again.
        judged = await client.post("/api/v1/alerts", content=NOT_JSON, headers=key)
        assert judged.status_code == 400
        titles = [i["title"] for i in (await client.get("/api/v1/incidents")).json()["items"]]
        assert not any(t.startswith("second") for t in titles)


async def test_native_route_takes_the_key_from_the_query(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    alert = {"title": "disk full", "severity": "high"}
    by_query = await client.post(f"/api/v1/alerts?routing_key={svc['key']}", json=alert)
    assert by_query.status_code == 202, by_query.text
    # The header wins when both are sent.
    header_wins = await client.post(
        "/api/v1/alerts?routing_key=not-a-key", json=alert, headers={"X-Routing-Key": svc["key"]}
    )
    assert header_wins.status_code == 202
    wrong_header = await client.post(
        f"/api/v1/alerts?routing_key={svc['key']}", json=alert, headers={"X-Routing-Key": "nope"}
    )
    assert wrong_header.status_code == 401
    missing = await client.post("/api/v1/alerts", json=alert)
    assert "routing_key" in missing.json()["detail"]
    parameters = (await client.get("/openapi.json")).json()["paths"]["/api/v1/alerts"]["post"]
    assert {"X-Routing-Key", "routing_key"} <= {p["name"] for p in parameters["parameters"]}
