"""Traefik in front of a stack with three ingestion replicas and two oncall replicas: its
rate limit answers 429 past the burst (per client address: another client still
passes), requests are spread round-robin over the replicas (each replica's /metrics
shows its share), the roles see the client's address, not the gateway's
(TRUSTED_PROXIES), the sign-in throttle counts failures across the oncall replicas
(shared through Redis), and both web replicas' live streams hear a change at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.stack import Stack, Stream
from tests.support.redis import shared_redis
from tests.system.servers import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = [pytest.mark.faults, pytest.mark.postgres]
CLIENT, OTHER_CLIENT = "127.0.0.5", "127.0.0.6"


@pytest.fixture
def stack(fresh_pg: str, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path, fresh_pg, shared_redis())  # the default limit: 100/s, burst 50
    running.up("--ingestion", "3", "--oncall", "2", "--web", "2", timeout=400)
    try:
        yield running
    finally:
        running.down()


def client(address: str, **kwargs: object) -> httpx.Client:
    """A client connecting from its own loopback address."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(transport=transport, timeout=30, **kwargs)  # type: ignore[arg-type]


def burst(url: str, requests: int, senders: int = 10) -> tuple[Counter[int], httpx.Headers]:
    """`requests` GETs of the gateway's /health (which OnCallNova itself never limits)
    sent at once from CLIENT: whatever 429 comes back is the gateway's. Returns the
    statuses and the headers of a 429."""
    seen: Counter[int] = Counter()
    refused = httpx.Headers()
    lock = threading.Lock()
    share = requests // senders

    def send() -> None:
        with client(CLIENT, base_url=url) as http:
            for _ in range(share):
                answer = http.get("/health")
                with lock:
                    seen[answer.status_code] += 1
                    if answer.status_code == 429:
                        refused.update(answer.headers)

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen, refused


def alerts_answered(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "oncall_http_request_duration_seconds_count"
        and sample.labels.get("route") == "/api/v1/alerts"
        and sample.labels.get("status") == "202"
    )


def test_limits_round_robin_and_client_addresses(stack: Stack) -> None:
    admin = stack.admin()
    with client(CLIENT, base_url=stack.url, headers=admin) as http:
        service = http.post("/api/v1/services", json={"name": "spread"})
        assert service.status_code == 201, service.text
        key = service.json()["integration_keys"][0]["key"]
        # The audit log has the client's address, passed on by Traefik and believed.
        audit = http.get("/api/v1/audit", params={"limit": 5}).json()
        entry = next(e for e in audit if e["action"] == "service.create")
        assert entry["ip"] == CLIENT

        # Round robin: 30 alerts at a pace under the limit, 10 per replica.
        replicas = [proc.url for proc in stack.procs("ingestion")]
        assert len(replicas) == 3
        before = [alerts_answered(url) for url in replicas]
        for n in range(30):
            body = {"title": f"spread {n}", "severity": "low"}
            answer = http.post("/api/v1/alerts", json=body, headers={"X-Routing-Key": key})
            assert answer.status_code == 202, answer.text
        shares = [alerts_answered(url) - b for url, b in zip(replicas, before, strict=True)]
        assert sum(shares) == 30
        assert all(share == 10 for share in shares), shares

        # A change made through the gateway reaches the stream of every web replica over
        # Redis pub/sub.
        streams = [Stream(proc.url or "", admin) for proc in stack.procs("web")]
        assert len(streams) == 2 and all(s.opened.wait(30) for s in streams)
        time.sleep(0.5)
        body = {"title": "seen by every web replica", "severity": "critical"}
        answer = http.post("/api/v1/alerts", json=body, headers={"X-Routing-Key": key})
        assert answer.status_code == 202, answer.text
        made = time.monotonic()
        for stream in streams:
            assert stream.change_after(made - 0.5, 5), "a web replica's stream missed it"
            stream.stop.set()
        delays = [round(min(t for t in s.changes if t > made - 0.5) - made, 3) for s in streams]
        assert all(delay < 1.0 for delay in delays), delays

    # Five wrong passwords from one address, spread over both oncall replicas by the
    # gateway, lock the account for that address on both: the right one is refused too.
    with client(CLIENT, base_url=stack.url) as http:
        wrong = {"username": ADMIN_EMAIL, "password": "not-the-password"}
        assert [http.post("/api/v1/auth/token", data=wrong).status_code for _ in range(5)] == [
            401
        ] * 5
        right = {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        refused = [http.post("/api/v1/auth/token", data=right).status_code for _ in range(2)]
        assert refused == [429, 429]  # whichever replica answers
    with client(OTHER_CLIENT, base_url=stack.url) as other:  # the owner, elsewhere
        assert other.post("/api/v1/auth/token", data=right).status_code == 200

    # Past the burst, the gateway answers 429 (per client address).
    seen, refused = burst(stack.url, 200)
    assert seen[429] > 0 and seen[200] >= 50, seen
    assert "retry-after" in refused or "x-retry-in" in refused, refused
    with client(OTHER_CLIENT, base_url=stack.url) as other:
        assert other.get("/health").status_code == 200  # another client is not limited
    print(
        "gateway summary:",
        dict(seen),
        "shares per ingestion replica:",
        shares,
        "change seen by the web replicas' streams after (s):",
        delays,
    )
