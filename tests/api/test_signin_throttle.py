"""Sign-in throttling: guessers are slowed, the owner is never locked out, the client
behind a trusted proxy is the one counted and audited, and replicas share the counts."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis

from oncallnova.runtime.container import Runtime
from oncallnova.transport.http.app import create_app
from tests.conftest import ADMIN_PASSWORD, RuntimeFactory, need_service, sign_in

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WRONG = "not-the-password"


@pytest.fixture
def backend() -> str:
    """Throttling does not depend on the database: SQLite is enough."""
    return "sqlite"


@asynccontextmanager
async def from_address(rt: Runtime, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(rt, manage_runtime=False)
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def attempt(
    http: httpx.AsyncClient, email: str, password: str, **headers: str
) -> httpx.Response:
    body = {"email": email, "password": password}
    return await http.post("/api/v1/auth/login", json=body, headers=headers)


async def test_guessing_cannot_lock_the_owner_out(make_runtime: RuntimeFactory) -> None:
    rt = await make_runtime(RATE_LIMIT_ENABLED="false")
    await sign_in(rt, "gil@example.com", "responder", "Gil")
    async with (
        from_address(rt, "203.0.113.9") as guesser,
        from_address(rt, "198.51.100.7") as owner,
    ):
        for _ in range(5):
            assert (await attempt(guesser, "gil@example.com", WRONG)).status_code == 401
        # the guessing address is locked out of the account, even with the password
        locked = await attempt(guesser, "gil@example.com", ADMIN_PASSWORD)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        # the owner, from an address that has not failed, signs in at once
        assert (await attempt(owner, "gil@example.com", ADMIN_PASSWORD)).status_code == 200
        # while the account is under attack, a fresh address gets one try, not five
        async with from_address(rt, "192.0.2.44") as other:
            assert (await attempt(other, "gil@example.com", WRONG)).status_code == 401
            assert (await attempt(other, "gil@example.com", WRONG)).status_code == 429


async def test_an_address_guessing_many_accounts_is_refused(make_runtime: RuntimeFactory) -> None:
    rt = await make_runtime(RATE_LIMIT_ENABLED="false")
    await sign_in(rt, "hal@example.com", "responder", "Hal")
    async with from_address(rt, "203.0.113.10") as sprayer:
        for n in range(20):
            assert (await attempt(sprayer, f"user{n}@example.com", WRONG)).status_code == 401
        assert (await attempt(sprayer, "hal@example.com", ADMIN_PASSWORD)).status_code == 429
    async with from_address(rt, "198.51.100.8") as owner:
        assert (await attempt(owner, "hal@example.com", ADMIN_PASSWORD)).status_code == 200


async def test_behind_a_trusted_proxy_the_forwarded_client_is_counted_and_audited(
    make_runtime: RuntimeFactory,
) -> None:
    rt = await make_runtime(RATE_LIMIT_ENABLED="false", TRUSTED_PROXIES="10.0.0.1")
    await sign_in(rt, "ida@example.com", "admin", "Ida")
    async with from_address(rt, "10.0.0.1") as proxy:
        guesser = {"X-Forwarded-For": "203.0.113.11"}
        for _ in range(5):
            assert (await attempt(proxy, "ida@example.com", WRONG, **guesser)).status_code == 401
        assert (
            await attempt(proxy, "ida@example.com", ADMIN_PASSWORD, **guesser)
        ).status_code == 429
        # every client shares the proxy's address; the owner is told apart all the same
        owner = {"X-Forwarded-For": "198.51.100.9"}
        signed_in = await attempt(proxy, "ida@example.com", ADMIN_PASSWORD, **owner)
        assert signed_in.status_code == 200
        csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"], **owner}
        created = await proxy.post("/api/v1/services", json={"name": "audited"}, headers=csrf)
        assert created.status_code == 201
        entries = (await proxy.get("/api/v1/audit", headers=owner)).json()
        assert entries[0]["action"] == "service.create"
        assert entries[0]["ip"] == "198.51.100.9"  # the client, not the proxy


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3) as client:
            client.ping()
    except (redis.RedisError, OSError) as exc:
        need_service("Redis", exc)
    name = f"ocn-test-{uuid.uuid4().hex[:12]}"
    yield name
    with redis.Redis.from_url(REDIS_URL) as client:
        for key in client.scan_iter(match=f"{name}:*"):
            client.delete(key)


async def test_replicas_share_the_counts_through_redis(
    make_runtime: RuntimeFactory, redis_prefix: str
) -> None:
    env: dict[str, Any] = {
        "RATE_LIMIT_ENABLED": "false",
        "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_REDIS_PREFIX": redis_prefix,
    }
    first, second = await make_runtime(**env), await make_runtime(**env)
    await sign_in(first, "jo@example.com", "responder", "Jo")
    async with (
        from_address(first, "203.0.113.12") as one,
        from_address(second, "203.0.113.12") as two,
    ):
        for n in range(5):
            http = (one, two)[n % 2]
            assert (await attempt(http, "jo@example.com", WRONG)).status_code == 401
        for http in (one, two):
            assert (await attempt(http, "jo@example.com", ADMIN_PASSWORD)).status_code == 429
    with redis.Redis.from_url(REDIS_URL) as client:
        keys = [k.decode() for k in client.scan_iter(match=f"{redis_prefix}:*")]
    assert keys and all("jo@example.com" not in k and "203.0.113.12" not in k for k in keys)


async def test_a_forwarded_hop_that_is_not_an_address_is_not_taken_for_the_client(
    make_runtime: RuntimeFactory,
) -> None:
    # every hop is trusted up to the client-written part, which is not an address
    rt = await make_runtime(RATE_LIMIT_ENABLED="false", TRUSTED_PROXIES="10.0.0.0/8")
    await sign_in(rt, "kit@example.com", "admin", "Kit")
    async with from_address(rt, "10.0.0.1") as proxy:
        forged = {"X-Forwarded-For": "x" * 200 + ", 10.0.0.7"}
        signed_in = await attempt(proxy, "kit@example.com", ADMIN_PASSWORD, **forged)
        assert signed_in.status_code == 200
        csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"], **forged}
        created = await proxy.post("/api/v1/services", json={"name": "hop"}, headers=csrf)
        assert created.status_code == 201
        entries = (await proxy.get("/api/v1/audit", headers=forged)).json()
    assert entries[0]["ip"] == "10.0.0.7"
