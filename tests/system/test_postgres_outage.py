"""PostgreSQL goes down under a running server, then comes back: every route answers 503
with Retry-After meanwhile (not 500), and the log says so once when it starts and once
when it ends, instead of a traceback per request and per engine pass."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import OwnPostgres
from tests.system.servers import Server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def log_records(log: Path) -> list[dict[str, object]]:
    records = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def test_an_outage_is_a_503_with_retry_after_logged_once(
    tmp_path: Path, own_pg: OwnPostgres
) -> None:
    env = {
        "DATABASE_URL": own_pg.url,
        "ONCALLNOVA_DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "INFO",
        "RATE_LIMIT_ENABLED": "false",
        "INTEGRATION_KEY_CACHE_SECONDS": "0",  # every ingestion request reads its key
        "ENGINE_INTERVAL_SECONDS": "0.2",  # many engine passes during the outage
    }
    log = tmp_path / "server.log"
    server = Server(env, log).start()
    try:
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=15) as http:
            created = http.post("/api/v1/services", json={"name": "checkout"})
            key = created.json()["integration_keys"][0]["key"]
            alert = {"title": "disk full", "severity": "high"}
            sent = http.post("/api/v1/alerts", json=alert, headers={"X-Routing-Key": key})
            assert sent.status_code == 202, sent.text

            own_pg.stop("fast")
            calls = [
                ("GET", "/api/v1/incidents", None, {}),
                ("GET", "/api/v1/services", None, {}),
                ("GET", "/api/v1/auth/me", None, {}),
                ("POST", "/api/v1/alerts", alert, {"X-Routing-Key": key}),
                (
                    "POST",
                    "/api/v1/integrations/alertmanager",
                    {"version": "4", "alerts": [{"status": "firing", "labels": {"a": "b"}}]},
                    {"X-Routing-Key": key},
                ),
            ]
            for _ in range(10):
                for method, path, body, headers in calls:
                    answer = http.request(method, path, json=body, headers=headers)
                    assert answer.status_code == 503, (path, answer.status_code, answer.text)
                    assert answer.headers["Retry-After"] == "5", path
                    assert "database" in answer.json()["detail"]
            health = http.get("/health")
            assert health.status_code == 503
            time.sleep(1)  # the engine fails a few passes too

            own_pg.start()
            own_pg.wait_ready()
            deadline = time.monotonic() + 20
            while http.get("/api/v1/incidents").status_code != 200:
                assert time.monotonic() < deadline, "the server did not recover"
                time.sleep(0.2)
            again = http.post("/api/v1/alerts", json=alert, headers={"X-Routing-Key": key})
            assert again.status_code == 202, again.text
    finally:
        server.stop()
    records = log_records(log)
    messages = [str(r.get("message", "")) for r in records]
    assert sum("database unavailable" in m for m in messages) == 1, messages
    assert sum("database available again" in m for m in messages) == 1, messages
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert not [r for r in records if r.get("exception")], text[-3000:]
