"""The scale-out promise under faults: Traefik + 3 ingestion + 2 incidents + oncall + web +
metrics + 2 engines on PostgreSQL and Redis (`oncallnova stack`), a bounded storm of
distinct alerts through the gateway, and kill -9 of one ingestion replica, one incidents
replica and one engine in the middle of it. Afterwards every alert that got a 2xx is
stored exactly once, each correlation key has one incident, each escalation level was
paged exactly once, every webhook was delivered (in order per incident), and every
request that failed got an answer a client retries; retried, each is stored once."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.faults.stack import Stack, eventually
from tests.support.receiver import Receiver
from tests.support.redis import shared_redis

pytestmark = [pytest.mark.faults, pytest.mark.postgres]
ALERTS = 400
GROUPS = 12  # correlation keys: alerts of one group join one incident
SENDERS = 8
RETRYABLE = {429, 502, 503, 504}


@pytest.fixture
def stack(fresh_pg: str, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(
        tmp_path,
        fresh_pg,
        shared_redis(),
        RATE_LIMIT_ENABLED="false",  # one client sends the whole storm
        NOTIFY_LEASE_SECONDS="5",  # a killed engine's claimed deliveries return soon
        NOTIFY_RETRY_DELAYS="1,1,2,2,5",
    )
    running.up("--ingestion", "3", "--incidents", "2", "--engine", "2", timeout=400)
    try:
        yield running
    finally:
        running.down()


def set_up(stack: Stack, receiver: Receiver) -> tuple[str, str]:
    """Through the gateway: two people, a two-level policy, a service correlating by the
    `group` label, a webhook to the receiver. Returns (service id, integration key)."""
    with httpx.Client(base_url=stack.url, headers=stack.admin(), timeout=30) as http:
        people = [
            http.post("/api/v1/users", json={"name": n, "email": f"{n}@example.com"}).json()["id"]
            for n in ("ann", "ben")
        ]
        levels = [{"delay_seconds": 2, "targets": [{"type": "user", "id": p}]} for p in people]
        policy = http.post("/api/v1/escalation-policies", json={"name": "p", "levels": levels})
        assert policy.status_code == 201, policy.text
        service = http.post(
            "/api/v1/services",
            json={
                "name": "storm",
                "escalation_policy_id": policy.json()["id"],
                "correlation_key": ["labels.group"],
            },
        )
        assert service.status_code == 201, service.text
        hook = http.post("/api/v1/webhooks", json={"url": receiver.url})
        assert hook.status_code == 201, hook.text
        body = service.json()
        return body["id"], body["integration_keys"][0]["key"]


def alert(n: int) -> dict[str, Any]:
    return {
        "title": f"storm alert {n}",
        "severity": "high",
        "dedup_key": f"storm-{n}",
        "labels": {"group": f"g{n % GROUPS}"},
    }


class Storm:
    """SENDERS threads posting the alerts once each; the answers, by alert."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.results: dict[int, int | str] = {}
        self._next = iter(range(ALERTS))
        self._lock = threading.Lock()

    def _send(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while True:
                with self._lock:
                    n = next(self._next, None)
                if n is None:
                    return
                try:
                    answer = http.post(
                        "/api/v1/alerts", json=alert(n), headers={"X-Routing-Key": self.key}
                    )
                    outcome: int | str = answer.status_code
                except httpx.TransportError as exc:  # the connection was cut
                    outcome = type(exc).__name__
                with self._lock:
                    self.results[n] = outcome

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._send, daemon=True) for _ in range(SENDERS)]
        for thread in threads:
            thread.start()
        return threads

    def answered(self) -> int:
        with self._lock:
            return len(self.results)


async def query(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def rows(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    return asyncio.run(query(dsn, sql, *args))


def test_a_storm_with_kills_loses_nothing_and_doubles_nothing(stack: Stack, fresh_pg: str) -> None:
    with Receiver() as receiver:
        service_id, key = set_up(stack, receiver)
        storm = Storm(stack.url, key)
        threads = storm.start()
        victims = [
            (ALERTS // 4, stack.procs("ingestion")[0]),
            (ALERTS // 2, stack.procs("incidents")[0]),
            (3 * ALERTS // 4, stack.procs("engine")[0]),
        ]
        for after, victim in victims:
            assert eventually(lambda after=after: storm.answered() >= after, 240, 0.02)
            stack.kill(victim)
        for thread in threads:
            thread.join(timeout=300)
        assert storm.answered() == ALERTS

        accepted = [n for n, outcome in storm.results.items() if outcome == 202]
        failed = {n: outcome for n, outcome in storm.results.items() if outcome != 202}
        # A failure is something a client retries: 429/502/503/504 or a cut connection.
        assert all(o in RETRYABLE or isinstance(o, str) for o in failed.values()), failed

        # Every 2xx is stored, once, and counted once.
        stored = {
            r["dedup_key"]: (r["copies"], r["count"])
            for r in rows(
                fresh_pg,
                "SELECT dedup_key, count(*) AS copies, max(count) AS count FROM alerts "
                "WHERE service_id = $1 GROUP BY dedup_key",
                service_id,
            )
        }
        for n in accepted:
            assert stored.get(f"storm-{n}") == (1, 1), (n, stored.get(f"storm-{n}"))

        # The failures, retried as a client would, are each stored once too.
        stored_before_retry = sum(1 for n in failed if f"storm-{n}" in stored)
        with httpx.Client(base_url=stack.url, timeout=30) as http:
            for n in failed:
                answer = eventually(
                    lambda n=n: (
                        http.post(
                            "/api/v1/alerts", json=alert(n), headers={"X-Routing-Key": key}
                        ).status_code
                        == 202
                    ),
                    60,
                )
                assert answer, f"alert {n} never accepted on retry"
        copies = rows(
            fresh_pg,
            "SELECT count(*) AS alerts, count(DISTINCT dedup_key) AS keys FROM alerts "
            "WHERE service_id = $1",
            service_id,
        )[0]
        assert copies["alerts"] == copies["keys"] == ALERTS

        # One incident per correlation key, although two incidents replicas raced on each.
        incidents = rows(
            fresh_pg,
            "SELECT correlation_key, count(*) AS n FROM incidents WHERE service_id = $1 "
            "GROUP BY correlation_key",
            service_id,
        )
        assert len(incidents) == GROUPS and {r["n"] for r in incidents} == {1}

        # Each level of each incident paged exactly once (level 2 after 2 s unacknowledged).
        def pages() -> list[asyncpg.Record]:
            return rows(
                fresh_pg,
                "SELECT incident_id, level, round, count(*) AS n FROM notifications "
                "WHERE kind = 'page' GROUP BY incident_id, level, round",
            )

        paged = eventually(lambda: len(pages()) >= 2 * GROUPS and pages(), 120)
        assert paged and len(paged) == 2 * GROUPS, paged
        assert {r["n"] for r in paged} == {1}

        # Every webhook delivered, each incident's in the order they were queued.
        def unsent() -> int:
            return int(
                rows(
                    fresh_pg,
                    "SELECT count(*) AS n FROM notifications "
                    "WHERE channel = 'webhook' AND status <> 'sent'",
                )[0]["n"]
            )

        assert eventually(lambda: unsent() == 0, 180), f"{unsent()} webhooks not delivered"
        hooks = rows(
            fresh_pg,
            "SELECT id, incident_id FROM notifications WHERE channel = 'webhook' ORDER BY seq",
        )
        arrivals: dict[str, int] = {}
        for index, request in enumerate(receiver.requests):
            arrivals.setdefault(request.headers["x-oncallnova-delivery"], index)
        assert {r["id"] for r in hooks} <= set(arrivals), "a webhook never arrived"
        per_incident: dict[str, list[int]] = {}
        for r in hooks:
            per_incident.setdefault(r["incident_id"], []).append(arrivals[r["id"]])
        for incident_id, order in per_incident.items():
            assert order == sorted(order), f"incident {incident_id}: out of order"
        duplicates = len(receiver.requests) - len(arrivals)

    summary = {
        "alerts_sent": ALERTS,
        "answered_2xx": len(accepted),
        "failed_retryable": dict(Counter(str(o) for o in failed.values())),
        "failed_but_stored_before_retry": stored_before_retry,
        "stored_after_retries": copies["alerts"],
        "incidents": len(incidents),
        "pages": len(paged),
        "webhooks_queued": len(hooks),
        "webhooks_received": len(receiver.requests),
        "webhook_duplicates_received": duplicates,
        "killed": [victim.name for _, victim in victims],
    }
    print("storm summary:", json.dumps(summary))
    assert stack.cli("stack", "status").returncode == 1  # three processes are gone
    # A killed replica is replaced by `stack restart NAME`, whatever else is down.
    replaced = stack.cli("stack", "restart", "ingestion-1")
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    assert [p.name for p in stack.procs("ingestion")] == [
        "ingestion-2",
        "ingestion-3",
        "ingestion-4",
    ]
