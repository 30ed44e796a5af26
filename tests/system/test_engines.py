"""Escalation engines as real processes on PostgreSQL: racing, killed, restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.system.servers import Server, cli

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
INCIDENTS = 200
LEVELS, REPEAT, DELAY = 2, 1, 1  # every incident gets 4 pages, one second apart


def start_engine(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "oncallnova", "serve", "--role", "engine"],
            env={**os.environ, **env, "ENGINE_INTERVAL_SECONDS": "0.1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def prepare(env: dict[str, str], tmp_path: Path) -> Server:
    """An API-only server, a policy with two users, and 200 incidents on it."""
    cli(env, "db", "upgrade")
    server = Server(env, tmp_path / "api.log", "--role", "api").start()
    users = [
        httpx.post(
            headers=server.headers,
            url=f"{server.url}/api/v1/users",
            json={"name": n, "email": f"{n}@example.com"},
        ).json()["id"]
        for n in ("ann", "ben")
    ]
    levels = [{"delay_seconds": DELAY, "targets": [{"type": "user", "id": u}]} for u in users]
    policy = httpx.post(
        headers=server.headers,
        url=f"{server.url}/api/v1/escalation-policies",
        json={"name": "p", "levels": levels, "repeat": REPEAT},
    ).json()["id"]
    service = httpx.post(
        headers=server.headers,
        url=f"{server.url}/api/v1/services",
        json={
            "name": "svc",
            "escalation_policy_id": policy,
            "correlation_key": ["title"],
        },
    ).json()
    key = service["integration_keys"][0]["key"]
    batch = [{"title": f"incident {n}", "severity": "high"} for n in range(INCIDENTS)]
    posted = httpx.post(
        f"{server.url}/api/v1/alerts", json=batch, headers={"X-Routing-Key": key}, timeout=30
    )
    assert posted.status_code == 202
    return server


async def page_counts(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT count(*) AS n FROM notifications GROUP BY incident_id, level, round"
        )
    finally:
        await conn.close()
    return [r["n"] for r in rows]


def wait_for_pages(url: str, expected: int, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    counts: list[int] = []
    while time.monotonic() < deadline:
        counts = asyncio.run(page_counts(url))
        if sum(counts) >= expected:
            time.sleep(2 * DELAY)  # anything extra would show up now
            return asyncio.run(page_counts(url))
        time.sleep(0.2)
    return counts


def test_two_engines_page_each_level_exactly_once(tmp_path: Path, fresh_pg: str) -> None:
    env = {"DATABASE_URL": fresh_pg, "ONCALLNOVA_DATA_DIR": str(tmp_path)}
    server = prepare(env, tmp_path)
    engines = [start_engine(env, tmp_path / f"engine{n}.log") for n in range(2)]
    try:
        expected = INCIDENTS * LEVELS * (REPEAT + 1)
        counts = wait_for_pages(fresh_pg, expected, timeout=60)
        assert len(counts) == expected, "a (incident, level, round) was never paged"
        assert set(counts) == {1}, "a level was paged twice"
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


def test_killed_engine_loses_nothing_and_a_restarted_one_catches_up(
    tmp_path: Path, fresh_pg: str
) -> None:
    env = {"DATABASE_URL": fresh_pg, "ONCALLNOVA_DATA_DIR": str(tmp_path)}
    server = prepare(env, tmp_path)
    first = start_engine(env, tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 30
        while sum(asyncio.run(page_counts(fresh_pg))) < INCIDENTS // 2:
            assert time.monotonic() < deadline, "the engine did not start paging"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)  # mid-run, possibly mid-transaction
        first.wait(timeout=10)
        time.sleep(3 * DELAY)  # levels fall due while no engine runs
        second = start_engine(env, tmp_path / "second.log")
        try:
            expected = INCIDENTS * LEVELS * (REPEAT + 1)
            counts = wait_for_pages(fresh_pg, expected, timeout=60)
            assert len(counts) == expected
            assert set(counts) == {1}
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
    finally:
        server.stop()


def test_engine_role_needs_no_port(tmp_path: Path, fresh_pg: str) -> None:
    env = {"DATABASE_URL": fresh_pg, "ONCALLNOVA_DATA_DIR": str(tmp_path), "LOG_LEVEL": "INFO"}
    engines = [start_engine(env, tmp_path / f"e{n}.log") for n in range(2)]
    deadline = time.monotonic() + 30
    while not all("engine running" in (tmp_path / f"e{n}.log").read_text() for n in range(2)):
        assert time.monotonic() < deadline, "engines did not start"
        time.sleep(0.1)
    for engine in engines:
        assert engine.poll() is None
        engine.send_signal(signal.SIGTERM)
        assert engine.wait(timeout=30) == 0
    assert "stopped cleanly" in (tmp_path / "e0.log").read_text()
