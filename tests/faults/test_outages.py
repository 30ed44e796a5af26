"""Redis killed and restarted mid-storm, then PostgreSQL unreachable for a few seconds,
under a stack with a private PostgreSQL cluster and a private Redis (the machine's
servers are never touched). Clients see 202 or 503 with Retry-After (never a hang, never
a 500); ingestion keeps working from PostgreSQL while Redis is away; the live stream
falls back to polling and back; nothing acknowledged is lost; every role recovers by
itself (the same processes, healthy again)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.faults.stack import Stack, Stream, eventually
from tests.support.postgres import OwnPostgres
from tests.support.redis import OwnRedis

pytestmark = [pytest.mark.faults, pytest.mark.postgres]
CLIENT_TIMEOUT = 20.0


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis().start()
    yield server
    server.remove()


@pytest.fixture
def stack(own_pg: OwnPostgres, own_redis: OwnRedis, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(
        tmp_path,
        own_pg.url,
        own_redis.url,
        RATE_LIMIT_PER_SECOND="2000",  # limits on, through Redis, but not in the way
        RATE_LIMIT_BURST="1000",
    )
    running.up("--ingestion", "2", timeout=400)
    try:
        yield running
    finally:
        running.down()


@dataclass
class Answer:
    n: int
    at: float
    status: int | str
    retry_after: str | None
    seconds: float


@dataclass
class Storm:
    """Senders posting distinct alerts until stopped, every answer kept."""

    url: str
    key: str
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _send(self) -> None:
        with httpx.Client(base_url=self.url, timeout=CLIENT_TIMEOUT) as http:
            while not self.stop.is_set():
                with self._lock:
                    n = self._count = self._count + 1
                started = time.monotonic()
                body = {"title": f"outage {n}", "severity": "high", "dedup_key": f"out-{n}"}
                try:
                    got = http.post(
                        "/api/v1/alerts", json=body, headers={"X-Routing-Key": self.key}
                    )
                    status: int | str = got.status_code
                    retry_after = got.headers.get("retry-after")
                except httpx.HTTPError as exc:
                    status, retry_after = type(exc).__name__, None
                answer = Answer(n, started, status, retry_after, time.monotonic() - started)
                with self._lock:
                    self.answers.append(answer)
                time.sleep(0.02)

    def start(self, senders: int = 4) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._send, daemon=True) for _ in range(senders)]
        for thread in threads:
            thread.start()
        return threads

    def between(self, start: float, end: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if start <= a.at <= end]


def open_incident(url: str, key: str, title: str, severity: str) -> None:
    body = {"title": title, "severity": severity}
    answer = httpx.post(f"{url}/api/v1/alerts", json=body, headers={"X-Routing-Key": key})
    assert answer.status_code == 202, answer.text


def stored(dsn: str) -> dict[str, int]:
    async def read() -> dict[str, int]:
        conn = await asyncpg.connect(dsn)
        try:
            found = await conn.fetch(
                "SELECT dedup_key, count(*) AS n FROM alerts GROUP BY dedup_key"
            )
        finally:
            await conn.close()
        return {r["dedup_key"]: r["n"] for r in found if r["dedup_key"]}

    return asyncio.run(read())


def pubsub_live(url: str) -> bool:
    try:
        return "oncall_redis_pubsub_live 1.0" in httpx.get(f"{url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return False


def test_redis_and_postgres_outages_mid_storm(
    stack: Stack, own_pg: OwnPostgres, own_redis: OwnRedis
) -> None:
    admin = stack.admin()
    with httpx.Client(base_url=stack.url, headers=admin, timeout=30) as http:
        key = http.post("/api/v1/services", json={"name": "storm"}).json()
        probe = http.post("/api/v1/services", json={"name": "probe"}).json()
    key, probe_key = key["integration_keys"][0]["key"], probe["integration_keys"][0]["key"]
    roles = {p.name: p.url for p in stack.state().processes if p.url and p.role != "gateway"}
    pids = {p.name: p.pid for p in stack.state().processes}
    assert eventually(lambda: all(pubsub_live(url) for url in roles.values()), 30)
    stream = Stream(stack.url, admin)
    time.sleep(2)  # the stream is open
    storm = Storm(stack.url, key)
    threads = storm.start()
    try:
        time.sleep(3)
        # Redis killed: limits fail open, keys come from PostgreSQL, the stream polls.
        redis_down = time.monotonic()
        own_redis.kill()
        time.sleep(1.5)
        opened = time.monotonic()
        open_incident(stack.url, probe_key, "while Redis is away", "critical")
        assert stream.change_after(opened, 8), "the live stream missed a change (polling)"
        time.sleep(2)
        own_redis.start()
        redis_up = time.monotonic()
        assert eventually(lambda: all(pubsub_live(url) for url in roles.values()), 30)
        opened = time.monotonic()
        open_incident(stack.url, probe_key, "Redis is back", "low")
        assert stream.change_after(opened, 3), "the live stream missed a change (Redis)"
        time.sleep(2)

        # PostgreSQL unreachable for a few seconds.
        pg_down = time.monotonic()
        own_pg.stop("fast")
        time.sleep(5)
        own_pg.start()
        pg_up = time.monotonic()
        time.sleep(5)
    finally:
        storm.stop.set()
        for thread in threads:
            thread.join(timeout=60)

    statuses = Counter(str(a.status) for a in storm.answers)
    # Only 202, or 503 (and 429) with Retry-After: never a 500, a 502, a hang.
    assert set(statuses) <= {"202", "503", "429"}, statuses
    for answer in storm.answers:
        if answer.status != 202:
            assert answer.retry_after, answer
        assert answer.seconds < CLIENT_TIMEOUT - 5, answer
    during_redis = storm.between(redis_down + 0.5, redis_up)
    assert sum(1 for a in during_redis if a.status == 202) >= 5, "ingestion stopped without Redis"
    during_pg = storm.between(pg_down + 0.5, pg_up - 0.5)
    seen = [
        (round(a.at - pg_down, 2), a.status, round(a.seconds, 2))
        for a in storm.between(pg_down - 2, pg_up + 3)
        if a.status != 202 or a.seconds > 0.2
    ]
    assert any(a.status == 503 for a in during_pg), f"the database outage was not seen: {seen}"

    # Nothing acknowledged is lost, nothing is stored twice.
    found = stored(own_pg.url)
    accepted = [a.n for a in storm.answers if a.status == 202]
    assert all(found.get(f"out-{n}") == 1 for n in accepted)
    assert max(found.values()) == 1

    # Every role recovered by itself: the same processes, healthy, serving.
    status = json.loads(stack.cli("stack", "status", "--json").stdout)
    assert {row["name"]: row["pid"] for row in status["processes"]} == pids
    assert all(row["health"] == "healthy" for row in status["processes"]), status
    open_incident(stack.url, probe_key, "after the outages", "medium")
    for name, url in roles.items():
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
        assert "oncall_redis_pubsub_live 1.0" in metrics, name
        failures = next(
            line for line in metrics.splitlines() if line.startswith("oncall_redis_pubsub_failures")
        )
        assert float(failures.rsplit(" ", 1)[1]) >= 1, (name, failures, stack.log(name)[-3000:])
    # Logged once when each outage started and once when it ended, per process.
    incidents_log = stack.log("incidents-1")
    assert incidents_log.count("Redis pub/sub subscriber: Redis unavailable") == 1
    assert incidents_log.count("Redis pub/sub subscriber: Redis answers again") == 1
    assert "database unavailable" in incidents_log and "available again" in incidents_log
    print(
        "outage summary:",
        json.dumps(
            {
                "requests": len(storm.answers),
                "answers": dict(statuses),
                "accepted_while_redis_was_down": sum(1 for a in during_redis if a.status == 202),
                "503_while_postgres_was_down": sum(1 for a in during_pg if a.status == 503),
                "slowest_answer_seconds": round(max(a.seconds for a in storm.answers), 2),
                "stored": len(found),
            }
        ),
    )
