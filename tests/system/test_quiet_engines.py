"""Two engine processes on PostgreSQL: heartbeat expiry and acknowledgement timeout each
fire once, and an expiry is found within 5 s of its deadline.

Real processes use the real clock, and a monitor's interval is at least a minute, so the
test moves deadlines instead of waiting: it writes `expires_at` a few seconds ahead, as
if the last beat had been an interval ago.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.system.servers import Server, cli
from tests.system.test_engines import start_engine

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
MONITORS = 20
INCIDENTS = 20


def api(server: Server, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(
        method, server.url + path, headers=server.headers, timeout=30, **kwargs
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_two_engines_expire_each_heartbeat_and_time_out_each_ack_once(
    tmp_path: Path, fresh_pg: str
) -> None:
    env = {
        "DATABASE_URL": fresh_pg,
        "ONCALLNOVA_DATA_DIR": str(tmp_path),
        "RATE_LIMIT_ENABLED": "false",
    }
    cli(env, "db", "upgrade")
    server = Server(env, tmp_path / "api.log", "--role", "api").start(timeout=120)
    engines = []
    try:
        ann = api(server, "POST", "/api/v1/users", json={"name": "ann", "email": "ann@example.com"})
        levels = [{"delay_seconds": 3600, "targets": [{"type": "user", "id": ann["id"]}]}]
        policy = api(
            server, "POST", "/api/v1/escalation-policies", json={"name": "p", "levels": levels}
        )
        service = api(
            server,
            "POST",
            "/api/v1/services",
            json={
                "name": "svc",
                "escalation_policy_id": policy["id"],
                "correlation_key": ["title"],
                "ack_timeout_seconds": 3,
            },
        )
        monitors = [
            api(
                server,
                "POST",
                "/api/v1/heartbeat-monitors",
                json={"service_id": service["id"], "name": f"job-{n}", "interval_seconds": 3600},
            )
            for n in range(MONITORS)
        ]
        for monitor in monitors:
            assert (
                httpx.get(monitor["url"].replace("http://127.0.0.1:8080", server.url)).status_code
                == 200
            )
        key = service["integration_keys"][0]["key"]
        batch = [{"title": f"incident {n}", "severity": "high"} for n in range(INCIDENTS)]
        posted = httpx.post(
            f"{server.url}/api/v1/alerts", json=batch, headers={"X-Routing-Key": key}, timeout=30
        )
        assert posted.status_code == 202, posted.text
        incident_ids = [a["incident_id"] for a in posted.json()["alerts"]]

        engines = [start_engine(env, tmp_path / f"engine{n}.log") for n in range(2)]

        # Level 1 is paged; then every incident is acknowledged.
        def paged() -> bool:
            rows = asyncio.run(query(fresh_pg, "SELECT 1 FROM notifications WHERE kind = 'page'"))
            return len(rows) >= INCIDENTS

        wait_until(paged, 120, "the engines to start and page level 1")
        for incident_id in incident_ids:
            api(server, "POST", f"/api/v1/incidents/{incident_id}/acknowledge")
        # Every monitor's deadline two seconds from now, as if its interval had passed.
        asyncio.run(
            query(fresh_pg, "UPDATE heartbeat_monitors SET expires_at = now() + interval '2 s'")
        )

        def expired() -> list[asyncpg.Record]:
            rows = asyncio.run(
                query(
                    fresh_pg,
                    "SELECT m.id, m.state, m.expires_at, a.first_seen FROM heartbeat_monitors m"
                    " JOIN alerts a ON a.dedup_key = 'heartbeat:' || m.id",
                )
            )
            return rows if len(rows) >= MONITORS else []

        rows = wait_until(expired, 30, "every heartbeat to expire")

        def timed_out() -> list[asyncpg.Record]:
            rows = asyncio.run(
                query(
                    fresh_pg,
                    "SELECT incident_id, count(*) AS n FROM incident_timeline"
                    " WHERE kind = 'ack_timeout' GROUP BY incident_id",
                )
            )
            return rows if len(rows) >= INCIDENTS else []

        wait_until(timed_out, 30, "every acknowledgement to time out")
        time.sleep(3)  # anything fired twice would show by now
        rows = expired()
        assert len(rows) == MONITORS, "a heartbeat expiry opened two alerts"
        assert {r["state"] for r in rows} == {"expired"}
        late = [(r["first_seen"] - r["expires_at"]).total_seconds() for r in rows]
        assert max(late) < 5, f"an expiry was found {max(late):.1f} s after its deadline"
        assert min(late) >= 0
        counts = timed_out()
        assert len(counts) == INCIDENTS and {r["n"] for r in counts} == {1}
        expiry_incidents = asyncio.run(
            query(fresh_pg, "SELECT count(*) AS n FROM incidents WHERE title LIKE 'Heartbeat %'")
        )
        assert expiry_incidents[0]["n"] == MONITORS
        for engine in engines:
            assert engine.poll() is None, "an engine died"
    finally:
        for engine in engines:
            engine.send_signal(signal.SIGTERM)
        for engine in engines:
            assert engine.wait(timeout=30) == 0
        server.stop()
    logs = "".join((tmp_path / f"engine{n}.log").read_text() for n in range(2))
    assert "Traceback" not in logs
