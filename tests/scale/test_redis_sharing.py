"""Several processes sharing one Redis (each a complete Runtime here, as each replica is
one): change notices reach every live feed over pub/sub with no database polling, a
revoked integration key is dropped by every process's cache at once, and when Redis
dies the feeds poll, keys are looked up in the database, and both recover by themselves.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from redis.asyncio.client import PubSub

from oncallnova.core.errors import Unauthenticated
from oncallnova.core.pubsub import CHANGES, RedisChannels
from oncallnova.core.shared_cache import digest
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.grpc_serving import servicers
from oncallnova.runtime.remote import RemoteRuntime
from oncallnova.runtime.roles import RoleName
from oncallnova.transport.changes import ChangeFeed
from oncallnova.transport.grpc.server import build_server
from tests.api.test_metrics import parse, value
from tests.conftest import RuntimeFactory, api_client, new_service
from tests.support.redis import OwnRedis, drop_prefix, new_prefix, shared_redis

INTERNAL_TOKEN = "internal-token-for-redis-sharing-tests"


@pytest.fixture
def backend() -> str:
    return "postgres"  # as replicas share it


@pytest.fixture
def redis_env() -> Iterator[dict[str, Any]]:
    url, prefix = shared_redis(), new_prefix()
    yield {
        "REDIS_URL": url,
        "ONCALLNOVA_REDIS_PREFIX": prefix,
        "RATE_LIMIT_REDIS_PREFIX": f"{prefix}:ratelimit",
        "INTEGRATION_KEY_SHARED_CACHE_SECONDS": 300,
    }
    drop_prefix(url, prefix)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis().start()
    yield server
    server.remove()


async def until(check: Callable[[], Awaitable[bool] | bool], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("not within the deadline")
        await asyncio.sleep(0.02)


async def live(*channels: RedisChannels | None) -> None:
    await until(lambda: all(c is not None and c.live for c in channels))


async def alert(
    http: httpx.AsyncClient, key: str, title: str, severity: str = "high"
) -> httpx.Response:
    body = {"title": title, "severity": severity}
    return await http.post("/api/v1/alerts", json=body, headers={"X-Routing-Key": key})


class CountingMarker:
    """The change marker a feed polls, counting the polls."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.polls = 0

    async def __call__(self) -> object:
        self.polls += 1
        return await self.rt.incidents.change_marker()


async def test_a_change_reaches_another_process_within_a_second_without_polling(
    make_runtime: RuntimeFactory, redis_env: dict[str, Any]
) -> None:
    a, b = await make_runtime(**redis_env), await make_runtime(**redis_env)
    marker = CountingMarker(b)
    feed = ChangeFeed(marker, interval=0.05, pubsub=b.pubsub)
    await live(a.pubsub, b.pubsub)
    async with api_client(a) as http, feed.subscribe() as queue:
        service = await new_service(http)
        for severity in ("critical", "high", "low"):  # each opens an incident
            sent = await alert(http, service["key"], f"disk {severity}", severity)
            assert sent.status_code == 202
            assert await asyncio.wait_for(queue.get(), 1.0) == "change"
        await asyncio.sleep(0.3)
    assert marker.polls == 0  # Redis carried every notice; the database was never polled


async def test_the_feed_polls_while_redis_is_away_and_stops_when_it_is_back(
    make_runtime: RuntimeFactory, own_redis: OwnRedis
) -> None:
    env = {"REDIS_URL": own_redis.url, "RATE_LIMIT_ENABLED": False}
    a, b = await make_runtime(**env), await make_runtime(**env)
    marker = CountingMarker(b)
    feed = ChangeFeed(marker, interval=0.05, pubsub=b.pubsub)
    await live(a.pubsub, b.pubsub)
    async with api_client(a) as http, feed.subscribe() as queue:
        service = await new_service(http)
        own_redis.kill()
        # Losing the subscription is a notice (a change may have slipped past), then
        # changes are found by polling the database.
        assert await asyncio.wait_for(queue.get(), 5.0) == "change"
        await until(lambda: marker.polls > 2)
        assert (await alert(http, service["key"], "while Redis is away")).status_code == 202
        assert await asyncio.wait_for(queue.get(), 2.0) == "change"
        metrics = parse((await http.get("/metrics")).text)
        assert value(metrics, "oncall_redis_pubsub_live") == 0
        assert (value(metrics, "oncall_redis_pubsub_failures_total") or 0) >= 1

        own_redis.start()
        await live(a.pubsub, b.pubsub)
        while not queue.empty():
            queue.get_nowait()
        polls = marker.polls
        assert (await alert(http, service["key"], "back", "critical")).status_code == 202
        assert await asyncio.wait_for(queue.get(), 2.0) == "change"
        await asyncio.sleep(0.3)
        assert marker.polls == polls  # no polling once the subscription is live again
        metrics = parse((await http.get("/metrics")).text)
        assert value(metrics, "oncall_redis_pubsub_live") == 1


async def test_the_subscriber_outlives_an_error_outside_redis_pys_classes(
    own_redis: OwnRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subscription lost to an unexpected error is counted and made again, as a lost
    connection is: the task does not end with the process believing it is still live."""
    counted: list[str] = []
    channels = RedisChannels(own_redis.url, new_prefix(), count=counted.append, retry_seconds=0.05)
    heard: list[str] = []
    channels.listen(CHANGES, heard.append)
    await channels.start()
    try:
        await live(channels)
        original = PubSub.get_message
        raised: list[bool] = []

        async def fails_once(self: PubSub, *args: Any, **kwargs: Any) -> Any:
            if not raised:
                raised.append(True)
                raise RuntimeError("pubsub connection not set")
            return await original(self, *args, **kwargs)

        monkeypatch.setattr(PubSub, "get_message", fails_once)
        await until(lambda: counted == ["failed"])
        await live(channels)
        channels.publish(CHANGES, "after the error")
        await until(lambda: heard == ["after the error"])
    finally:
        await channels.aclose()


@dataclasses.dataclass
class Ingestion:
    """The `ingestion` role's use cases: gRPC clients of a Runtime serving `incidents`."""

    remote: RemoteRuntime

    async def accepts(self, key: str) -> bool:
        try:
            await self.remote.use_cases.ingestion.authenticate(key)
        except Unauthenticated:
            return False
        return True


@pytest.fixture
async def ingestion_of(
    redis_env: dict[str, Any],
) -> AsyncIterator[Callable[[Runtime], Awaitable[Ingestion]]]:
    made: list[tuple[RemoteRuntime, Any]] = []

    async def build(rt: Runtime) -> Ingestion:
        settings = rt.settings.model_copy(update={"internal_token": INTERNAL_TOKEN})
        served = dataclasses.replace(rt.use_cases, settings=settings)
        server = build_server(
            servicers(RoleName.incidents, served, ChangeFeed(rt.incidents.change_marker), rt.clock),
            settings,
        )
        port = await server.start("127.0.0.1:0")
        remote = RemoteRuntime(
            settings.model_copy(update={"incidents_grpc_addr": f"127.0.0.1:{port}"}),
            RoleName.ingestion,
        )
        await remote.start()
        made.append((remote, server))
        return Ingestion(remote)

    yield build
    for remote, server in made:
        await remote.stop()
        await server.stop(grace=None)


async def test_a_revoked_key_is_dropped_by_every_process_at_once(
    make_runtime: RuntimeFactory,
    redis_env: dict[str, Any],
    ingestion_of: Callable[[Runtime], Awaitable[Ingestion]],
) -> None:
    a, b = await make_runtime(**redis_env), await make_runtime(**redis_env)
    ingestion = await ingestion_of(b)
    await live(a.pubsub, b.pubsub, ingestion.remote.pubsub)
    async with api_client(a) as http:
        service = await new_service(http)
        key = service["key"]
        # Every process has the key cached (for five minutes: revokes are pushed).
        assert await b.services.route_for_key(key) is not None
        assert await ingestion.accepts(key)
        assert await a.services.route_for_key(key) is not None
        # The route is in Redis too, under a digest of the key, never the key itself.
        pattern = f"{redis_env['ONCALLNOVA_REDIS_PREFIX']}:*"
        with redis.Redis.from_url(redis_env["REDIS_URL"]) as client:
            stored = [name.decode() for name in client.scan_iter(pattern)]
        assert any(name.endswith(digest(key)) for name in stored)
        assert not any(key in name for name in stored)

        key_id = service["integration_keys"][0]["id"]
        revoked = await http.delete(f"/api/v1/services/{service['id']}/integration-keys/{key_id}")
        assert revoked.status_code == 200, revoked.text
        assert await a.services.route_for_key(key) is None  # at once where it was revoked
        # ...and within moments (a pub/sub message, not a timeout) everywhere else.
        await until(lambda: _gone(b, key), within=1.0)
        await until(lambda: _refused(ingestion, key), within=1.0)
        assert (await alert(http, key, "with a revoked key")).status_code == 401


async def _gone(rt: Runtime, key: str) -> bool:
    return await rt.services.route_for_key(key) is None


async def _refused(ingestion: Ingestion, key: str) -> bool:
    return not await ingestion.accepts(key)


async def test_keys_are_looked_up_in_the_database_while_redis_is_dead(
    make_runtime: RuntimeFactory, own_redis: OwnRedis
) -> None:
    env = {
        "REDIS_URL": own_redis.url,
        "RATE_LIMIT_ENABLED": False,
        "INTEGRATION_KEY_CACHE_SECONDS": 0.5,
        "INTEGRATION_KEY_SHARED_CACHE_SECONDS": 300,
    }
    a, b = await make_runtime(**env), await make_runtime(**env)
    await live(a.pubsub, b.pubsub)
    own_redis.kill()
    await until(lambda: not a.pubsub.live and not b.pubsub.live)
    async with api_client(a) as http:
        service = await new_service(http)
        key = service["key"]
        for number in range(5):  # ingestion works: keys come from PostgreSQL
            assert (await alert(http, key, f"no Redis {number}")).status_code == 202
        assert await b.services.route_for_key(key) is not None
        key_id = service["integration_keys"][0]["id"]
        await http.delete(f"/api/v1/services/{service['id']}/integration-keys/{key_id}")
        # No message can reach b: it keeps answers only INTEGRATION_KEY_CACHE_SECONDS.
        await until(lambda: _gone(b, key), within=3.0)
