"""Kept lookups that must not outlive a change: one looked up while the answer was being
forgotten is not kept, here nor in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from oncallnova.core.cache import Lookups
from oncallnova.core.pubsub import RedisChannels
from oncallnova.core.ratelimit import RedisBreaker
from oncallnova.core.shared_cache import Codec, SharedLookups, Sharing
from tests.support.redis import drop_prefix, new_prefix, shared_redis

CODEC: Codec[str | None] = Codec(lambda v: v or "", lambda text, _key: text or None)


class Slow:
    """A lookup that answers what it is told to, when it is told to."""

    def __init__(self) -> None:
        self.answer = "old"
        self.calls = 0
        self.called = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, key: str) -> str | None:
        self.calls += 1
        self.called.set()
        answer = self.answer
        await self.release.wait()
        return answer


async def test_a_lookup_running_while_its_answer_is_forgotten_is_not_kept() -> None:
    lookup = Slow()
    cache: Lookups[str, str | None] = Lookups(lookup, 60)
    lookup.release.clear()
    running = asyncio.ensure_future(cache.get("k"))
    await lookup.called.wait()  # the lookup has read the old answer
    lookup.answer = "new"
    cache.forget("k")  # the change is committed while the old answer is on its way
    lookup.release.set()
    assert await running == "old"  # the caller that asked before the change gets it...
    assert await cache.get("k") == "new"  # ...but it was not kept
    assert lookup.calls == 2


@pytest.fixture
def prefix() -> Iterator[str]:
    url, name = shared_redis(), new_prefix()
    yield name
    drop_prefix(url, name)


@pytest.fixture
async def processes(prefix: str) -> AsyncIterator[list[tuple[SharedLookups[str | None], Slow]]]:
    """Two processes' shared lookups of the same name, over one Redis."""
    made = []
    channels_made = []
    for _ in range(2):
        channels = RedisChannels(shared_redis(), prefix)
        await channels.start()
        channels_made.append(channels)
        lookup = Slow()
        sharing = Sharing(channels, channels.commands, RedisBreaker(), 300)
        shared = SharedLookups(lookup, name="t", seconds=1, codec=CODEC, sharing=sharing)
        made.append((shared, lookup))
    deadline = asyncio.get_running_loop().time() + 10
    while not all(c.live for c in channels_made):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    yield made
    for channels in channels_made:
        await channels.aclose()


async def test_an_answer_found_by_one_process_serves_the_other_from_redis(
    processes: list[tuple[SharedLookups[str | None], Slow]],
) -> None:
    (first, first_lookup), (second, second_lookup) = processes
    assert await first.get("k") == "old"
    assert await second.get("k") == "old"
    assert (first_lookup.calls, second_lookup.calls) == (1, 0)  # the second read Redis


async def test_an_answer_read_before_an_invalidation_is_not_stored_in_redis(
    processes: list[tuple[SharedLookups[str | None], Slow]],
) -> None:
    (first, first_lookup), (second, second_lookup) = processes
    first_lookup.release.clear()
    running = asyncio.ensure_future(first.get("k"))
    await asyncio.sleep(0.05)  # it has read the generation and the old answer
    second_lookup.answer = first_lookup.answer = "new"
    await second.invalidate("k")  # committed elsewhere, announced
    first_lookup.release.set()
    assert await running == "old"
    # Neither Redis nor the first process kept the old answer.
    assert await second.get("k") == "new"
    assert await first.get("k") == "new"
