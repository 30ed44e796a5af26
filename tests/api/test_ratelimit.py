"""Abuse limits: token buckets per client IP and per integration key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from oncallnova.core.ratelimit import MemoryRateLimiter
from oncallnova.transport.http.app import create_app
from tests.conftest import RuntimeFactory, new_service


@pytest.fixture
def backend() -> str:
    """Limits do not depend on the database: SQLite is enough."""
    return "sqlite"


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def limited(
    make_runtime: RuntimeFactory, peer: str = "127.0.0.1", **env: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app built with these settings; a slow refill unless given."""
    env = {"RATE_LIMIT_PER_SECOND": "0.5", **env}
    app = create_app(await make_runtime(**env), manage_runtime=False)
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


# --- the in-memory bucket, with an injected clock -------------------------------------


async def test_burst_then_refused_with_the_wait_until_the_next_token() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(rate=2.0, burst=3, clock=clock)
    assert [await limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await limiter.hit("a") == pytest.approx(0.5)  # one token every 0.5 s
    clock.now += 0.2
    assert await limiter.hit("a") == pytest.approx(0.3)
    assert await limiter.hit("b") == 0.0  # another key has its own bucket


async def test_refill_is_proportional_and_capped_at_the_burst() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(rate=10.0, burst=5, clock=clock)
    for _ in range(5):
        await limiter.hit("a")
    clock.now += 0.25  # 2.5 tokens: two requests pass, the third waits 0.05 s
    assert [await limiter.hit("a") for _ in range(2)] == [0.0, 0.0]
    assert await limiter.hit("a") == pytest.approx(0.05)
    clock.now += 3600  # a long pause refills to the burst, not beyond
    assert [await limiter.hit("a") for _ in range(5)] == [0.0] * 5
    assert await limiter.hit("a") == pytest.approx(0.1)


async def test_refused_requests_do_not_take_tokens() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(rate=1.0, burst=1, clock=clock)
    assert await limiter.hit("a") == 0.0
    for _ in range(10):
        assert await limiter.hit("a") == pytest.approx(1.0)
    clock.now += 1.0
    assert await limiter.hit("a") == 0.0


async def test_idle_buckets_are_evicted_and_the_count_is_bounded() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(rate=1.0, burst=2, clock=clock, max_buckets=100)
    for n in range(50):
        await limiter.hit(f"ip{n}")
    assert len(limiter) == 50
    clock.now += 2.0  # every bucket is full again, the same as no bucket
    await limiter.hit("fresh")
    assert len(limiter) == 1
    for n in range(1000):  # many clients at once: never more than max_buckets
        await limiter.hit(f"spray{n}")
    assert len(limiter) == 100


# --- per client IP (middleware) -------------------------------------------------------


async def test_ip_past_the_burst_gets_429_with_retry_after(make_runtime: RuntimeFactory) -> None:
    async with limited(make_runtime, RATE_LIMIT_BURST="3") as http:
        answers = [await http.get("/api/v1/nothing-here") for _ in range(3)]
        assert [r.status_code for r in answers] == [404] * 3
        refused = await http.get("/api/v1/nothing-here")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"  # 1 token at 0.5/s
        assert refused.json() == {"detail": "rate limit exceeded for client ip; retry after 2 s"}
        # every route counts, ingestion included
        posted = await http.post("/api/v1/alerts", headers={"X-Routing-Key": "k"}, json={})
        assert posted.status_code == 429


async def test_ip_limit_is_per_client(make_runtime: RuntimeFactory) -> None:
    env = {"RATE_LIMIT_BURST": "2", "RATE_LIMIT_PER_SECOND": "0.01"}
    rt = await make_runtime(**env)
    app = create_app(rt, manage_runtime=False)
    statuses: dict[str, list[int]] = {}
    for peer in ("10.0.0.1", "10.0.0.2"):
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            statuses[peer] = [(await http.get("/nope")).status_code for _ in range(3)]
    assert statuses == {"10.0.0.1": [404, 404, 429], "10.0.0.2": [404, 404, 429]}
    assert (await http_get(app, "10.0.0.1", "/nope")).headers["retry-after"] == "100"


async def http_get(app: Any, peer: str, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.get(path, headers=headers)


async def test_health_is_never_limited(make_runtime: RuntimeFactory) -> None:
    async with limited(make_runtime, RATE_LIMIT_BURST="1", RATE_LIMIT_PER_SECOND="0.01") as http:
        for _ in range(5):
            assert (await http.get("/health")).status_code == 200
        assert (await http.get("/nope")).status_code == 404
        assert (await http.get("/nope")).status_code == 429
        assert (await http.get("/health")).status_code == 200


async def test_disabled_limits_let_everything_through(make_runtime: RuntimeFactory) -> None:
    env = {"RATE_LIMIT_ENABLED": "false", "RATE_LIMIT_BURST": "1", "RATE_LIMIT_KEY_BURST": "1"}
    async with limited(make_runtime, **env) as http:
        assert {(await http.get("/nope")).status_code for _ in range(20)} == {404}


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    make_runtime: RuntimeFactory,
) -> None:
    env = {"RATE_LIMIT_BURST": "1", "RATE_LIMIT_PER_SECOND": "0.01"}
    untrusted = create_app(await make_runtime(**env), manage_runtime=False)
    # a client cannot dodge the limit by inventing X-Forwarded-For values
    first = await http_get(untrusted, "203.0.113.9", "/nope", **{"X-Forwarded-For": "1.1.1.1"})
    second = await http_get(untrusted, "203.0.113.9", "/nope", **{"X-Forwarded-For": "2.2.2.2"})
    assert (first.status_code, second.status_code) == (404, 429)

    proxied = create_app(
        await make_runtime(**env, TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.1"), manage_runtime=False
    )
    # behind the proxy each client has its own bucket; the proxy's own hops are skipped
    chain = {"X-Forwarded-For": "1.1.1.1, 10.0.0.7"}
    assert (await http_get(proxied, "192.168.1.1", "/nope", **chain)).status_code == 404
    assert (await http_get(proxied, "10.1.2.3", "/nope", **chain)).status_code == 429
    other = {"X-Forwarded-For": "2.2.2.2"}
    assert (await http_get(proxied, "192.168.1.1", "/nope", **other)).status_code == 404


# --- per integration key (ingestion handlers) ------------------------------------------


async def test_key_past_the_burst_gets_429_on_every_ingestion_route(
    client: httpx.AsyncClient, make_runtime: RuntimeFactory
) -> None:
    svc = await new_service(client)  # created through the default app, same database
    alert = {"title": "disk full", "severity": "low"}
    webhook = {"version": "4", "status": "firing", "alerts": []}
    env = {"RATE_LIMIT_BURST": "100", "RATE_LIMIT_KEY_BURST": "3"}
    async with limited(make_runtime, RATE_LIMIT_KEY_PER_SECOND="0.5", **env) as http:
        headers = {"X-Routing-Key": svc["key"]}
        ok = [await http.post("/api/v1/alerts", headers=headers, json=alert) for _ in range(3)]
        assert [r.status_code for r in ok] == [202] * 3
        refused = await http.post("/api/v1/alerts", headers=headers, json=alert)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"
        assert refused.json()["detail"] == (
            "rate limit exceeded for integration key; retry after 2 s"
        )
        # checked before the body: an invalid body is refused for the rate, not the body
        bad = await http.post("/api/v1/alerts", headers=headers, content=b"{")
        assert bad.status_code == 429
        # the budget belongs to the key, whichever route uses it
        am = await http.post(
            "/api/v1/integrations/alertmanager", params={"routing_key": svc["key"]}, json=webhook
        )
        assert am.status_code == 429
        assert am.headers["retry-after"] == "2"
        pd = await http.post(
            "/v2/enqueue",
            json={
                "routing_key": svc["key"],
                "event_action": "trigger",
                "payload": {"summary": "x", "source": "y", "severity": "info"},
            },
        )
        assert pd.status_code == 429
        assert pd.headers["retry-after"] == "2"
        assert pd.json() == {
            "status": "throttle event",
            "message": "rate limit exceeded for integration key; retry after 2 s",
        }
        # another key is not affected
        other = await new_service(client, name="payments")
        posted = await http.post(
            "/api/v1/alerts", headers={"X-Routing-Key": other["key"]}, json=alert
        )
        assert posted.status_code == 202


async def test_key_limit_defaults_to_the_ip_limit(
    client: httpx.AsyncClient, make_runtime: RuntimeFactory
) -> None:
    svc = await new_service(client)
    alert = {"title": "disk full", "severity": "low"}
    # two peers share one key: the key's budget (= RATE_LIMIT_BURST) runs out first
    rt = await make_runtime(RATE_LIMIT_BURST="4", RATE_LIMIT_PER_SECOND="0.01")
    app = create_app(rt, manage_runtime=False)
    statuses = []
    for n in range(6):
        transport = httpx.ASGITransport(app=app, client=(f"10.0.0.{n % 2}", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post(
                "/api/v1/alerts", headers={"X-Routing-Key": svc["key"]}, json=alert
            )
            statuses.append(response.status_code)
    assert statuses == [202, 202, 202, 202, 429, 429]


async def test_pagerduty_route_answers_its_own_format_for_the_ip_limit(
    make_runtime: RuntimeFactory,
) -> None:
    async with limited(make_runtime, RATE_LIMIT_BURST="1") as http:
        await http.post("/v2/enqueue", json={})
        refused = await http.post("/v2/enqueue", json={})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"
        assert refused.json() == {
            "status": "throttle event",
            "message": "rate limit exceeded for client ip; retry after 2 s",
        }


async def test_limiters_are_closed_when_the_lifespan_ends(make_runtime: RuntimeFactory) -> None:
    app = create_app(await make_runtime(RATE_LIMIT_BURST="5"), manage_runtime=False)
    limiter = app.state.key_limiter
    assert isinstance(limiter, MemoryRateLimiter)
    async with app.router.lifespan_context(app):
        await limiter.hit("k")
        assert len(limiter) == 1
    assert len(limiter) == 0  # aclose() ran
