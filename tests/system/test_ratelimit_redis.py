"""Rate limits shared through Redis: several processes spend one budget.

Uses the Redis server at 127.0.0.1:6379 (TEST_REDIS_URL to change). Locally the tests
that need it are skipped when it is not reachable; with CI=true they fail.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio
from httpx import Response

from oncallnova.core.ratelimit import RedisRateLimiter
from tests.support.redis import shared_redis
from tests.system.servers import Server, cli


@pytest.fixture(scope="module")
def redis_url() -> str:
    return shared_redis()


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test alone; its keys are removed afterwards."""
    name = f"ocn-test-{uuid.uuid4().hex[:12]}"
    yield name
    with redis.Redis.from_url(redis_url) as client:
        for key in client.scan_iter(match=f"{name}:*"):
            client.delete(key)


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_two_limiters_share_one_bucket(
    redis_url: str, prefix: str, raw: redis.asyncio.Redis
) -> None:
    first = RedisRateLimiter(redis_url, rate=0.5, burst=4, prefix=prefix)
    second = RedisRateLimiter(redis_url, rate=0.5, burst=4, prefix=prefix)
    try:
        waits = [await (first, second)[n % 2].hit("ip:10.0.0.1") for n in range(6)]
        assert waits[:4] == [0.0] * 4
        assert all(1.0 < w <= 2.0 for w in waits[4:]), waits  # one token per 2 s
        assert await second.hit("ip:10.0.0.2") == 0.0  # another key, another bucket
        # the bucket expires once it would be full again (8 s), plus a second
        ttl = await raw.pttl(f"{prefix}:ip:10.0.0.1")
        assert 8000 < ttl <= 9000
    finally:
        await first.aclose()
        await second.aclose()


async def test_tokens_refill_with_redis_time(redis_url: str, prefix: str) -> None:
    limiter = RedisRateLimiter(redis_url, rate=20.0, burst=2, prefix=prefix)
    try:
        assert [await limiter.hit("k") for _ in range(2)] == [0.0, 0.0]
        assert 0 < await limiter.hit("k") <= 0.05
        time.sleep(0.06)  # noqa: ASYNC251 - the refill is measured on the Redis clock
        assert await limiter.hit("k") == 0.0
    finally:
        await limiter.aclose()


async def test_unreachable_redis_fails_open_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # nothing listens on port 1: every hit is allowed, one warning is logged
    limiter = RedisRateLimiter(
        "redis://127.0.0.1:1/0", rate=1.0, burst=1, prefix="x", retry_after_failure=0
    )
    try:
        with caplog.at_level(logging.WARNING, logger="oncallnova.core.ratelimit"):
            assert [await limiter.hit("k") for _ in range(5)] == [0.0] * 5
        warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        await limiter.aclose()


def start(env: dict[str, str], log: Path) -> Server:
    return Server(env, log).start()


def sweep(servers: list[Server], send: int, method: str, path: str, **kw: Any) -> list[Response]:
    """Sends `send` requests, alternating between the servers."""
    with httpx.Client(timeout=10) as client:
        return [client.request(method, f"{servers[n % 2].url}{path}", **kw) for n in range(send)]


@pytest.mark.slow
def test_two_servers_share_one_budget_per_client_ip(
    tmp_path: Path, redis_url: str, prefix: str
) -> None:
    env = {
        "REDIS_URL": redis_url,
        "RATE_LIMIT_REDIS_PREFIX": prefix,
        "RATE_LIMIT_BURST": "10",
        "RATE_LIMIT_PER_SECOND": "1",
        "DATABASE_URL": "",
        # the test speaks for one client of its own through the local "proxy", so the
        # harness's own requests from 127.0.0.1 (sign-in, health) do not share its bucket
        "TRUSTED_PROXIES": "127.0.0.1,::1",
    }
    servers = [
        start({**env, "ONCALLNOVA_DATA_DIR": str(tmp_path / f"d{n}")}, tmp_path / f"s{n}.log")
        for n in range(2)
    ]
    try:
        started = time.monotonic()
        client = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}
        answers = sweep(servers, 40, "GET", "/nope", headers=client)
        elapsed = time.monotonic() - started
        accepted = [r for r in answers if r.status_code != 429]
        # one shared burst of 10 (plus what refilled meanwhile), not two bursts of 10
        assert 10 <= len(accepted) <= 10 + elapsed + 1, (len(accepted), elapsed)
        refused = [r for r in answers if r.status_code == 429]
        assert {str(r.url.port) for r in refused} == {str(s.port) for s in servers}
        assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
        assert refused[0].json()["detail"].startswith("rate limit exceeded for client ip")
    finally:
        for server in servers:
            server.stop()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_servers_share_one_budget_per_integration_key(
    tmp_path: Path, redis_url: str, prefix: str, fresh_pg: str
) -> None:
    env = {
        "REDIS_URL": redis_url,
        "RATE_LIMIT_REDIS_PREFIX": prefix,
        "RATE_LIMIT_BURST": "1000",
        "RATE_LIMIT_KEY_BURST": "10",
        "RATE_LIMIT_KEY_PER_SECOND": "1",
        "DATABASE_URL": fresh_pg,
        "ONCALLNOVA_DATA_DIR": str(tmp_path),
    }
    created = cli(env, "service", "create", "--name", f"limited-{prefix}", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["integration_key"]
    servers = [start(env, tmp_path / f"s{n}.log") for n in range(2)]
    try:
        started = time.monotonic()
        alert = {"title": "disk full", "severity": "low"}
        headers = {"X-Routing-Key": key}
        answers = sweep(servers, 40, "POST", "/api/v1/alerts", headers=headers, json=alert)
        elapsed = time.monotonic() - started
        statuses = [r.status_code for r in answers]
        assert set(statuses) == {202, 429}, statuses
        assert 10 <= statuses.count(202) <= 10 + elapsed + 1, (statuses, elapsed)
        refused = next(r for r in answers if r.status_code == 429)
        assert refused.json()["detail"].startswith("rate limit exceeded for integration key")
    finally:
        for server in servers:
            server.stop()
