"""Token-bucket rate limiters: in memory for one process, or shared through Redis.

A bucket holds up to `burst` tokens and refills at `rate` tokens per second; a request
takes one token. `hit(key)` answers 0 when the request may go on, otherwise the seconds
until a token will be there. A key never seen (or idle long enough to be full again)
starts with a full bucket.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    async def hit(self, key: str) -> float:
        """Takes a token for `key`: 0 when allowed, else the seconds to wait."""
        ...

    async def aclose(self) -> None:
        """Releases connections; the limiter is not used afterwards."""
        ...


def take(tokens: float, elapsed: float, rate: float, burst: int) -> tuple[float, float]:
    """The bucket after `elapsed` seconds of refill and one request: (tokens, wait)."""
    tokens = min(float(burst), tokens + max(0.0, elapsed) * rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate


class MemoryRateLimiter:
    """Buckets in this process's memory, bounded in number.

    Buckets are kept in least-recently-used order. A bucket untouched for `burst / rate`
    seconds is full again, the same as no bucket at all, so such buckets are dropped as
    requests arrive; past `max_buckets` (many distinct clients at once) the least recently
    used bucket is dropped even if not yet full, which only forgives that client a little.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 100_000,
    ) -> None:
        if rate <= 0 or burst < 1 or max_buckets < 1:
            raise ValueError("rate must be > 0, burst and max_buckets >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_buckets = max_buckets
        self.idle_seconds = burst / rate
        # key -> [tokens, last touched]; the order is the order of last use
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    async def hit(self, key: str) -> float:
        now = self.clock()
        self._evict(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [float(self.burst), now]
        else:
            self._buckets.move_to_end(key)
        bucket[0], wait = take(bucket[0], now - bucket[1], self.rate, self.burst)
        bucket[1] = now
        return wait

    def _evict(self, now: float) -> None:
        buckets = self._buckets
        while buckets:
            key, (_, touched) = next(iter(buckets.items()))
            if now - touched < self.idle_seconds and len(buckets) < self.max_buckets:
                return
            del buckets[key]

    async def aclose(self) -> None:
        self._buckets.clear()


# The bucket lives in a hash (tokens `t`, last refill in milliseconds `m`). The time is
# the Redis server's (TIME), so processes with skewed clocks still share one budget; the
# key expires once the bucket would be full again plus a second. Numbers are returned
# as strings because Redis truncates Lua numbers to integers.
_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'm')
local tokens = tonumber(state[1])
local stamp = tonumber(state[2])
if tokens == nil or stamp == nil then
  tokens = burst
  stamp = now
end
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'm', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


T = TypeVar("T")


class Skipped(Enum):
    """What `RedisBreaker.call` answers instead of Redis's answer."""

    SKIPPED = "skipped"


SKIPPED = Skipped.SKIPPED


class RedisBreaker:
    """Notices once that Redis does not answer, then stops asking it for a while.

    A dead Redis refuses connections at once, but a hung one (accepting TCP, never
    answering) costs each call the whole socket timeout; asked on every request, that
    timeout would be added to every request. So after a failure every Redis user sharing
    this breaker skips Redis for `cool_down` seconds (their callers fail open or fall
    back); then a single call probes it while the others keep skipping. The outage is
    logged once when it starts and once when Redis answers again, and `count` (if
    given) is told of every failure ("failed") and every skipped call ("skipped").
    """

    def __init__(
        self,
        *,
        cool_down: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        count: Callable[[str], None] | None = None,
    ) -> None:
        self.cool_down = cool_down
        self.clock = clock
        self.count = count
        self.down = False
        self._skip_until = -math.inf
        self._probing = False

    async def call(self, request: Callable[[], Awaitable[T]]) -> T | Skipped:
        """`request()` through the breaker: Redis's answer, or `SKIPPED` when Redis is
        being skipped or this call failed (the caller then fails open or falls back)."""
        if not self._allows():
            return SKIPPED
        try:
            answer = await request()
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return SKIPPED
        except BaseException:
            self._abandoned()
            raise
        self._succeeded()
        return answer

    def _allows(self) -> bool:
        """Whether to call Redis now; every allowed call ends in one verdict."""
        if self.down and (self._probing or self.clock() < self._skip_until):
            if self.count is not None:
                self.count("skipped")
            return False
        if self.down:
            self._probing = True
        return True

    def _succeeded(self) -> None:
        if self.down:
            log.warning("Redis answers again; using it again")
        self.down = False
        self._probing = False

    def _abandoned(self) -> None:
        """An allowed call was cancelled before Redis answered: neither verdict."""
        self._probing = False

    def _failed(self, exc: BaseException) -> None:
        if not self.down:
            log.warning(
                "Redis unavailable (%s: %s); skipping it for %.0f s at a time until it "
                "answers again (rate limits let requests through meanwhile)",
                type(exc).__name__,
                exc,
                self.cool_down,
            )
        self.down = True
        self._probing = False
        self._skip_until = self.clock() + self.cool_down
        if self.count is not None:
            self.count("failed")


REDIS_ERRORS = (RedisError, OSError, TimeoutError)


def redis_client(url: str, timeout: float) -> Redis:
    """A client that gives up after `timeout` seconds and never retries by itself (the
    breaker decides when to try again)."""
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


class RedisRateLimiter:
    """Buckets in Redis, shared by every process that uses the same `prefix`.

    Each hit is one atomic Lua script call (EVALSHA). Fails open: when Redis is
    unreachable, hung or answers with an error, the request is allowed and the breaker
    (shared with the process's other Redis users when one is given) keeps Redis out of
    the way for a while, so a Redis outage never becomes an ingestion outage, nor adds a
    timeout to every request.
    """

    def __init__(
        self,
        url: str,
        rate: float,
        burst: int,
        prefix: str,
        *,
        timeout: float = 0.5,
        retry_after_failure: float = 15.0,
        breaker: RedisBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self.breaker = breaker or RedisBreaker(cool_down=retry_after_failure, clock=clock)
        self._client = redis_client(url, timeout)
        self._script = self._client.register_script(_BUCKET_LUA)

    async def hit(self, key: str) -> float:
        wait = await self.breaker.call(
            lambda: self._script(keys=[f"{self.prefix}:{key}"], args=[repr(self.rate), self.burst])
        )
        return 0.0 if wait is SKIPPED else float(wait)

    async def aclose(self) -> None:
        await self._client.aclose()
