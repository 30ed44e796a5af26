"""Lookups kept in every process and in Redis, and dropped everywhere at once.

The answers of `lookup(key)` are kept in this process (`Lookups`) and, with Redis, in
Redis too, so a process that has not seen a key yet finds the answer another one looked
up (one Redis round trip instead of a database query or a gRPC call). `invalidate` drops
an answer everywhere: here at once, in Redis by moving to a new generation (every entry
is stored under the generation it was read in, so older ones are never read again), and
in every other process by a message on the `keys` channel.

How long answers are kept depends on whether invalidations can arrive: while this
process is subscribed, `shared_seconds`; without Redis or while the subscription is
down, `seconds` (short), and everything kept is dropped when the subscription is lost or
made again. Redis calls go through the process's breaker: when Redis does not answer,
lookups go straight to `lookup` (the database), so nothing depends on Redis being up.

A lookup that read the old answer just before an invalidation cannot store it: in this
process `Lookups` drops answers that were being looked up while `forget` was called; in
Redis the answer is stored only if the generation is still the one read before the
lookup, checked and written in one script.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from redis.asyncio import Redis

from oncallnova.core.cache import Lookups
from oncallnova.core.pubsub import ANY, KEYS, RedisChannels
from oncallnova.core.ratelimit import SKIPPED, RedisBreaker

V = TypeVar("V")
Lookup = Callable[[str], Awaitable[V]]

_GET_LUA = """
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', KEYS[2] .. generation .. ':' .. ARGV[1])}
"""
_PUT_LUA = """
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[2] .. ARGV[1] .. ':' .. ARGV[2], ARGV[3], 'EX', ARGV[4])
end
return 1
"""


def digest(key: str) -> str:
    """What Redis holds instead of the key itself (keys are secrets)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class Codec(Generic[V]):
    def __init__(self, encode: Callable[[V], str], decode: Callable[[str, str], V]) -> None:
        self.encode = encode
        self.decode = decode  # (text, the key it was found by) -> value


@dataclass(frozen=True)
class Sharing:
    """What a process shares its lookups through: its pub/sub channels, a Redis client
    for the entries, its breaker, and how long answers are kept while shared."""

    channels: RedisChannels
    redis: Redis
    breaker: RedisBreaker
    seconds: float


class SharedLookups(Generic[V]):
    def __init__(
        self,
        lookup: Lookup[V],
        *,
        name: str,
        seconds: float,
        codec: Codec[V],
        sharing: Sharing | None = None,
    ) -> None:
        self._lookup = lookup
        self._codec = codec
        channels = self._channels = sharing.channels if sharing else None
        shared_seconds = sharing.seconds if sharing else seconds
        # Entries in Redis expire after whole seconds: none when answers are kept shorter.
        self._redis = sharing.redis if sharing and shared_seconds >= 1 else None
        self._breaker = sharing.breaker if sharing else RedisBreaker()
        self._short = seconds
        self._long = max(shared_seconds, seconds)
        self._local: Lookups[str, V] = Lookups(self._fetch, self._seconds)
        self._was_live = False
        if channels is not None:
            self._generation = channels.name(f"cache:{name}:generation")
            self._entries = channels.name(f"cache:{name}:")
            channels.listen(KEYS, self._on_message, self._on_subscription)
            if self._redis is not None:
                self._get = self._redis.register_script(_GET_LUA)
                self._put = self._redis.register_script(_PUT_LUA)

    def _seconds(self) -> float:
        live = self._channels is not None and self._channels.live
        return self._long if live else self._short

    async def get(self, key: str) -> V:
        return await self._local.get(key)

    def forget(self, key: str) -> None:
        """Drop this process's answer for `key` (it proved stale); others keep theirs."""
        self._local.forget(key)

    async def invalidate(self, key: str | None = None) -> None:
        """Drop the answer for `key` (None: every answer) in every process and in Redis.

        Redis moves to a new generation before this returns (when it answers), so the
        next lookup here cannot find the old answer there; if Redis does not answer, the
        message waits in the publisher's queue until it does."""
        self._local.forget(key)
        if self._channels is None:
            return
        text = ANY if key is None else digest(key)
        sent: object = SKIPPED
        if self._redis is not None:
            sent = await self._breaker.call(lambda: self._announce(text))
        if sent is SKIPPED:
            self._channels.publish(KEYS, text, bump=self._generation)

    async def _announce(self, text: str) -> None:
        assert self._redis is not None and self._channels is not None
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._generation)
            pipe.publish(self._channels.name(KEYS), text)
            await pipe.execute()

    async def _fetch(self, key: str) -> V:
        if self._redis is None:
            return await self._lookup(key)
        hashed = digest(key)
        found = await self._breaker.call(
            lambda: self._get(keys=[self._generation, self._entries], args=[hashed])
        )
        if found is not SKIPPED and found[1] is not None:
            return self._codec.decode(_text(found[1]), key)
        value = await self._lookup(key)
        if found is not SKIPPED:
            args = [_text(found[0]), hashed, self._codec.encode(value), int(self._long)]
            await self._breaker.call(
                lambda: self._put(keys=[self._generation, self._entries], args=args)
            )
        return value

    def _on_message(self, text: str) -> None:
        if text == ANY:
            self._local.forget()
        else:
            self._local.forget_where(lambda key: digest(key) == text)

    def _on_subscription(self, live: bool) -> None:
        # Lost: answers kept long can no longer be trusted. Made again: messages sent
        # meanwhile were missed, and Redis may have restarted from an older snapshot, so
        # every process is told to move to a new generation.
        self._local.forget()
        if live and self._was_live and self._channels is not None:
            self._channels.publish(KEYS, ANY, bump=self._generation)
        self._was_live = self._was_live or live


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
