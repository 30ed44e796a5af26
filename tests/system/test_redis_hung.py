"""A hung Redis (accepting connections, never answering) is noticed once and then left
alone for a while: requests are not each delayed by its timeout."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from oncallnova.core.ratelimit import RedisBreaker, RedisRateLimiter
from oncallnova.transport.http.app import create_app
from tests.conftest import ADMIN_PASSWORD, RuntimeFactory, sign_in


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
async def hung_redis() -> AsyncIterator[str]:
    """A TCP server on a port of its own that accepts and never replies."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # keep the connection open, say nothing

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_the_limiter_waits_once_then_skips_redis(
    hung_redis: str, caplog: pytest.LogCaptureFixture
) -> None:
    counted: list[str] = []
    now = [1000.0]
    breaker = RedisBreaker(cool_down=15.0, clock=lambda: now[0], count=counted.append)
    limiter = RedisRateLimiter(hung_redis, 1.0, 1, "x", timeout=0.3, breaker=breaker)
    try:
        with caplog.at_level(logging.WARNING, logger="oncallnova.core.ratelimit"):
            started = time.monotonic()
            assert await limiter.hit("k") == 0.0  # fails open after one timeout
            first = time.monotonic() - started
            started = time.monotonic()
            assert [await limiter.hit("k") for _ in range(50)] == [0.0] * 50
            rest = time.monotonic() - started
            now[0] += 16  # the cool-down is over: one call probes Redis again
            assert await limiter.hit("k") == 0.0
        assert 0.25 < first < 2.0
        assert rest < 0.1  # nobody waited for Redis during the cool-down
        assert counted == ["failed"] + ["skipped"] * 50 + ["failed"]
        warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
        assert len(warnings) == 1  # one outage, one warning
    finally:
        await limiter.aclose()


async def test_requests_are_not_each_delayed_and_the_outage_is_counted(
    make_runtime: RuntimeFactory, hung_redis: str
) -> None:
    rt = await make_runtime(REDIS_URL=hung_redis)
    await sign_in(rt, "quinn@example.com", "admin", "Quinn")
    app = create_app(rt, manage_runtime=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        waited = 0.0
        for _ in range(3):  # bursts spread over a few seconds
            started = time.monotonic()
            for _ in range(10):
                assert (await http.get("/nope")).status_code == 404
            waited += time.monotonic() - started
            await asyncio.sleep(1.2)
        # sign-in throttling, also kept in Redis, skips it too, counting in the process
        wrong = {"email": "quinn@example.com", "password": "not-the-password"}
        for _ in range(5):
            assert (await http.post("/api/v1/auth/login", json=wrong)).status_code == 401
        right = {"email": "quinn@example.com", "password": ADMIN_PASSWORD}
        assert (await http.post("/api/v1/auth/login", json=right)).status_code == 429
        metrics = (await http.get("/metrics")).text
    # one socket timeout (0.5 s) in all, not one per request or per burst
    assert waited < 1.2, waited
    assert 'oncall_redis_unavailable_total{outcome="failed"} 1.0' in metrics
    skipped = next(
        line
        for line in metrics.splitlines()
        if line.startswith("oncall_redis_unavailable_total") and 'outcome="skipped"' in line
    )
    assert float(skipped.rsplit(" ", 1)[1]) >= 40
