"""One use-case call over gRPC: made acting as a user, its reply read as the domain's
typed value. Every client of this package calls through `read`, `write` or `send`.

A read changes nothing, so it is made again when the other role could not be reached
(a restart, a replica gone). A write is made once: when its reply is lost it may have
been applied, and only the caller can tell whether to repeat it. A read whose deadline
passed is not repeated either: its time is spent, and the caller is waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from google.protobuf.message import Message

from oncallnova.core.authz import Principal
from oncallnova.core.errors import Unavailable
from oncallnova.transport.grpc.convert import to_dict, validate
from oncallnova.transport.grpc.interceptors import acting_as

T = TypeVar("T")
R = TypeVar("R", bound=Message)
Method = Callable[[Any], Awaitable[R]]

# Tries of a read, and the first pause between them (doubling): 1.75 s in all, enough
# for a channel to reconnect (its first backoff is about a second) to a restarted role.
ATTEMPTS = 4
PAUSE_SECONDS = 0.25
# A failure quicker than this was a connection refused or reset, not a deadline.
QUICK_SECONDS = 1.0


@contextmanager
def _as(who: Principal | None) -> Iterator[None]:
    # Calls with no acting user (sign-in, feeds) carry their own credential.
    with acting_as(who) if who is not None else nullcontext():
        yield


def value(reply: Message, kind: type[T] | Any, part: str | None = None) -> T:
    """`reply` (or its field `part`, e.g. a list's `items`) as a `kind`."""
    data = to_dict(reply)
    return validate(data[part] if part else data, kind)


async def read(
    who: Principal | None,
    method: Method[R],
    request: Message,
    kind: type[T] | Any,
    part: str | None = None,
) -> T:
    """A call that changes nothing, made again while the other role is unreachable."""
    with _as(who):
        return value(await resend(lambda: method(request)), kind, part)


async def resend(make: Callable[[], Awaitable[R]]) -> R:
    """The reply of a call that is safe to repeat (a read, or a write whose idempotency
    keys make a repeat change nothing), made again while the other role cannot be
    reached. A call whose deadline passed is not made again: its time is spent."""
    for attempt in range(ATTEMPTS):
        started = time.monotonic()
        try:
            return await make()
        except Unavailable:
            quick = time.monotonic() - started < QUICK_SECONDS
            if not quick or attempt == ATTEMPTS - 1:
                raise
        await asyncio.sleep(PAUSE_SECONDS * 2**attempt)
    raise AssertionError("unreachable")


async def write(
    who: Principal | None,
    method: Method[R],
    request: Message,
    kind: type[T] | Any,
    part: str | None = None,
) -> T:
    """A call that changes something: made once."""
    with _as(who):
        reply = await method(request)
    return value(reply, kind, part)


async def send(who: Principal | None, method: Method[R], request: Message) -> None:
    """A write whose reply says nothing (`google.protobuf.Empty`): made once."""
    with _as(who):
        await method(request)
