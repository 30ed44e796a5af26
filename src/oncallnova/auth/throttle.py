"""Sign-in throttling that slows password guessing without locking the owner out.

Failed sign-ins are counted over a sliding window (five minutes) three ways: per client
address, per account, and per account and address together. An address with too many
failures (on any accounts) is refused: it is guessing. An account with too many
failures is locked only for the addresses that failed on it: whoever guesses from
anywhere cannot keep the owner out, since a correct password from an address that has
not failed on the account still signs in (and guessers get one try per fresh address).

With Redis the counters are shared by every process; otherwise, and while Redis does
not answer, they live in this process.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from oncallnova.core.ratelimit import SKIPPED, RedisBreaker

WINDOW_SECONDS = 300.0
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
MAX_PER_KEY = 1000  # failures kept per key; past it the window only gets denser


@dataclass(frozen=True)
class Tally:
    """Failures of one key in the window, and the seconds until the oldest leaves it."""

    count: int
    retry_after: float


class FailureCounter(Protocol):
    async def counts(self, keys: Sequence[str]) -> list[Tally]: ...

    async def add(self, keys: Sequence[str]) -> None: ...

    async def clear(self, keys: Sequence[str]) -> None: ...

    async def aclose(self) -> None: ...


class MemoryFailures:
    """Sliding windows in this process, bounded in keys and in entries per key."""

    def __init__(
        self,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    async def counts(self, keys: Sequence[str]) -> list[Tally]:
        now = self.clock()
        tallies = []
        for key in keys:
            stamps = self._trim(key, now)
            wait = stamps[0] + self.window - now if stamps else 0.0
            tallies.append(Tally(len(stamps), wait))
        return tallies

    async def add(self, keys: Sequence[str]) -> None:
        now = self.clock()
        for key in keys:
            stamps = self._failures.setdefault(key, deque(maxlen=MAX_PER_KEY))
            self._failures.move_to_end(key)
            stamps.append(now)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)  # the least recently failed key

    async def clear(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _trim(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    async def aclose(self) -> None:
        self._failures.clear()


# Each key is a sorted set of failure times (Redis server time, in milliseconds), so
# processes with skewed clocks share one window. Entries older than the window are
# dropped on every call; the key expires with its newest entry.
_COUNT_LUA = """
local window = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local out = {}
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  local wait = 0
  if n > 0 then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = tonumber(oldest[2]) + window - now
  end
  table.insert(out, n)
  table.insert(out, wait)
end
return out
"""
_ADD_LUA = """
local window = tonumber(ARGV[1])
local keep = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  redis.call('ZREMRANGEBYRANK', key, 0, -keep - 1)
  redis.call('PEXPIRE', key, window)
end
return 1
"""


class RedisFailures:
    """Windows in Redis, shared by every process using `prefix`; while Redis does not
    answer (the breaker says so), the in-process windows count instead."""

    def __init__(
        self,
        client: Redis,
        prefix: str,
        breaker: RedisBreaker,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self.prefix = prefix
        self.breaker = breaker
        self.window_ms = int(window * 1000)
        self.fallback = MemoryFailures(window)
        self._client = client
        self._count = client.register_script(_COUNT_LUA)
        self._add = client.register_script(_ADD_LUA)
        self._nonce = secrets.token_hex(4)  # with a sequence number, keeps entries distinct
        self._sequence = itertools.count()

    def _keys(self, keys: Sequence[str]) -> list[str]:
        return [f"{self.prefix}:{k}" for k in keys]

    async def counts(self, keys: Sequence[str]) -> list[Tally]:
        flat = await self.breaker.call(
            lambda: self._count(keys=self._keys(keys), args=[self.window_ms])
        )
        if flat is SKIPPED:
            return await self.fallback.counts(keys)
        return [Tally(int(flat[i]), int(flat[i + 1]) / 1000) for i in range(0, len(flat), 2)]

    async def add(self, keys: Sequence[str]) -> None:
        await self.fallback.add(keys)  # also here, in case Redis stops answering
        entry = f"{self._nonce}:{next(self._sequence)}"
        await self.breaker.call(
            lambda: self._add(keys=self._keys(keys), args=[self.window_ms, entry, MAX_PER_KEY])
        )

    async def clear(self, keys: Sequence[str]) -> None:
        await self.fallback.clear(keys)
        await self.breaker.call(lambda: self._client.delete(*self._keys(keys)))

    async def aclose(self) -> None:
        await self._client.aclose()


def _key(kind: str, *parts: str) -> str:
    # Hashed so that Redis holds neither email addresses nor client addresses.
    return f"{kind}:{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:32]}"


class SignInThrottle:
    """Decides whether a sign-in may be tried, from the failures counted so far."""

    def __init__(
        self,
        counter: FailureCounter,
        *,
        account_limit: int = ACCOUNT_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
    ) -> None:
        self.counter = counter
        self.account_limit = account_limit
        self.address_limit = address_limit

    @staticmethod
    def _keys(email: str, ip: str | None) -> list[str]:
        address = ip or "-"
        return [_key("account", email), _key("address", address), _key("pair", email, address)]

    async def wait(self, email: str, ip: str | None) -> int:
        """0 when a sign-in to `email` from `ip` may be tried, else seconds to wait."""
        account, address, pair = await self.counter.counts(self._keys(email, ip))
        if address.count >= self.address_limit:
            return _seconds(address.retry_after)
        if account.count >= self.account_limit and pair.count > 0:
            return _seconds(account.retry_after)
        return 0

    async def failed(self, email: str, ip: str | None) -> None:
        await self.counter.add(self._keys(email, ip))

    async def succeeded(self, email: str, ip: str | None) -> None:
        """The address proved itself on this account; the account's count stays, so the
        guessers' addresses remain locked."""
        await self.counter.clear(self._keys(email, ip)[2:])

    async def aclose(self) -> None:
        await self.counter.aclose()


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))
