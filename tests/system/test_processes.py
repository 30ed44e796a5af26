"""Real server processes: the quick start, graceful stop, crash safety, two replicas."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.system.servers import Server, cli

pytestmark = pytest.mark.slow


def test_quick_start_flow(tmp_path: Path) -> None:
    env = {"ONCALLNOVA_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": "", "LOG_LEVEL": "INFO"}
    created = cli(env, "service", "create", "--name", "web", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["integration_key"]
    assert (tmp_path / "data" / "oncallnova.db").exists()
    server = Server(env, tmp_path / "server.log").start()
    try:
        posted = httpx.post(
            f"{server.url}/api/v1/alerts",
            headers={"X-Routing-Key": key},
            json={"title": "Checkout errors", "severity": "critical"},
        )
        assert posted.status_code == 202
        incidents = httpx.get(headers=server.headers, url=f"{server.url}/api/v1/incidents").json()[
            "items"
        ]
        assert [i["title"] for i in incidents] == ["Checkout errors"]
        ack = httpx.post(
            headers=server.headers,
            url=f"{server.url}/api/v1/incidents/{incidents[0]['id']}/acknowledge",
        )
        assert ack.json()["status"] == "acknowledged"
    finally:
        # uvicorn finishes the shutdown, then exits by the signal it received
        assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert "stopped cleanly" in (tmp_path / "server.log").read_text()
    duplicate = cli(env, "service", "create", "--name", "web")
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stdout


def test_every_acknowledged_alert_survives_a_kill(tmp_path: Path) -> None:
    env = {"ONCALLNOVA_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": ""}
    key = json.loads(cli(env, "service", "create", "--name", "web", "--json").stdout)[
        "integration_key"
    ]
    server = Server(env, tmp_path / "server.log").start()
    accepted: set[str] = set()

    async def send(n: int, client: httpx.AsyncClient) -> None:
        try:
            response = await client.post(
                "/api/v1/alerts",
                headers={"X-Routing-Key": key},
                json={"title": f"alert {n}", "severity": "high"},
            )
        except httpx.HTTPError:
            return
        if response.status_code == 202:
            accepted.add(response.json()["alerts"][0]["alert_id"])

    async def load() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            tasks = [asyncio.create_task(send(n, client)) for n in range(400)]
            for _ in range(1000):  # kill mid-stream, once some answers are in
                if len(accepted) >= 20:
                    break
                await asyncio.sleep(0.01)
            await asyncio.to_thread(server.stop, signal.SIGKILL)
            await asyncio.gather(*tasks)

    asyncio.run(load())
    assert accepted, "no alert was accepted before the kill"
    restarted = Server(env, tmp_path / "server.log").start()
    try:
        incidents = httpx.get(
            headers=restarted.headers, url=f"{restarted.url}/api/v1/incidents"
        ).json()["items"]
        stored: set[str] = set()
        for incident in incidents:
            detail = httpx.get(
                headers=restarted.headers, url=f"{restarted.url}/api/v1/incidents/{incident['id']}"
            ).json()
            stored |= {a["id"] for a in detail["alerts"]}
        assert accepted <= stored
    finally:
        restarted.stop()


@pytest.mark.postgres
def test_two_servers_racing_on_one_key_open_one_incident(tmp_path: Path, fresh_pg: str) -> None:
    env = {
        "DATABASE_URL": fresh_pg,
        "ONCALLNOVA_DATA_DIR": str(tmp_path),
        "RATE_LIMIT_ENABLED": "false",
    }  # this test is about correctness under load
    created = cli(env, "service", "create", "--name", "race", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["integration_key"]
    servers = [Server(env, tmp_path / f"s{n}.log").start() for n in range(2)]
    per_server, results = 300, []
    try:

        async def fire(url: str, n: int, client: httpx.AsyncClient) -> None:
            response = await client.post(
                f"{url}/api/v1/alerts",
                headers={"X-Routing-Key": key},
                json={"title": f"alert {n}", "severity": "critical", "dedup_key": f"k{n % 150}"},
            )
            assert response.status_code == 202, response.text
            results.append(response.json()["alerts"][0])

        async def load() -> None:
            limits = httpx.Limits(max_connections=64)
            async with httpx.AsyncClient(timeout=30, limits=limits) as client:
                await asyncio.gather(
                    *(fire(s.url, n, client) for s in servers for n in range(per_server))
                )

        asyncio.run(load())
        incidents = httpx.get(
            headers=servers[0].headers, url=f"{servers[0].url}/api/v1/incidents"
        ).json()
        assert incidents["total"] == 1
        assert len({r["incident_id"] for r in results}) == 1
        detail = httpx.get(
            headers=servers[1].headers,
            url=f"{servers[1].url}/api/v1/incidents/{results[0]['incident_id']}",
        )
        alerts = detail.json()["alerts"]
        # 150 distinct dedup keys, each seen 4 times across both servers: nothing lost
        assert len(alerts) == 150
        assert sum(a["count"] for a in alerts) == 2 * per_server
        assert detail.json()["alert_count"] == 150
        assert sum(1 for r in results if not r["deduplicated"]) == 150
    finally:
        for server in servers:
            server.stop()


def test_all_in_one_pages_level_one_at_once(tmp_path: Path) -> None:
    env = {"ONCALLNOVA_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": ""}
    server = Server(env, tmp_path / "server.log").start()
    try:
        url = server.url
        ann = httpx.post(
            headers=server.headers,
            url=f"{url}/api/v1/users",
            json={"name": "Ann", "email": "a@example.com"},
        )
        levels = [{"delay_seconds": 300, "targets": [{"type": "user", "id": ann.json()["id"]}]}]
        policy = httpx.post(
            headers=server.headers,
            url=f"{url}/api/v1/escalation-policies",
            json={"name": "p", "levels": levels},
        )
        svc = httpx.post(
            headers=server.headers,
            url=f"{url}/api/v1/services",
            json={"name": "s", "escalation_policy_id": policy.json()["id"]},
        ).json()
        sent = time.monotonic()
        posted = httpx.post(
            f"{url}/api/v1/alerts",
            json={"title": "down", "severity": "critical"},
            headers={"X-Routing-Key": svc["integration_keys"][0]["key"]},
        )
        incident_id = posted.json()["alerts"][0]["incident_id"]
        pages: list[dict[str, object]] = []
        while not pages and time.monotonic() - sent < 5:
            pages = httpx.get(
                headers=server.headers, url=f"{url}/api/v1/incidents/{incident_id}"
            ).json()["pages"]
            time.sleep(0.02)
        assert pages, "level 1 was not paged"
        assert time.monotonic() - sent < 1.0, "paging level 1 took over a second"
        assert pages[0]["user_id"] == ann.json()["id"]
    finally:
        server.stop()
