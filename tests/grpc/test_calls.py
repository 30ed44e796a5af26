"""How a client makes a call: reads are made again while the other role cannot be
reached, writes and late reads are not, and an unreachable role is an Unavailable
error (HTTP 503), not a hang."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from google.protobuf import empty_pb2

from oncallnova.core.authz import SYSTEM
from oncallnova.core.errors import Unavailable
from oncallnova.settings import Settings
from oncallnova.transport.grpc.channel import open_channel
from oncallnova.transport.grpc.clients import calls
from oncallnova.transport.grpc.clients.catalog import CatalogClient
from oncallnova.transport.grpc.clients.oncall import SchedulesClient
from oncallnova.transport.grpc.interceptors import current_principal
from tests.grpc.conftest import TOKEN


class Flaky:
    """A stub method unreachable for its first `failures` calls."""

    def __init__(self, failures: int, pause: float = 0.0) -> None:
        self.failures = failures
        self.pause = pause
        self.calls = 0
        self.callers: list[str] = []

    async def __call__(self, request: Any) -> empty_pb2.Empty:
        self.calls += 1
        self.callers.append(current_principal().user_id)
        await asyncio.sleep(self.pause)
        if self.calls <= self.failures:
            raise Unavailable("another OnCallNova service is unavailable: connection refused")
        return empty_pb2.Empty()


@pytest.fixture(autouse=True)
def short_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calls, "PAUSE_SECONDS", 0.01)


async def test_a_read_is_made_again_while_the_peer_is_unreachable() -> None:
    method = Flaky(failures=2)
    assert await calls.read(SYSTEM, method, empty_pb2.Empty(), dict) == {}
    assert method.calls == 3 and method.callers == ["system"] * 3
    method = Flaky(failures=calls.ATTEMPTS)
    with pytest.raises(Unavailable):
        await calls.read(SYSTEM, method, empty_pb2.Empty(), dict)
    assert method.calls == calls.ATTEMPTS


async def test_a_write_is_made_once() -> None:
    for make in (
        lambda m: calls.write(SYSTEM, m, empty_pb2.Empty(), dict),
        lambda m: calls.send(SYSTEM, m, empty_pb2.Empty()),
    ):
        method = Flaky(failures=1)
        with pytest.raises(Unavailable):
            await make(method)
        assert method.calls == 1


async def test_a_read_that_used_its_time_is_not_made_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calls, "QUICK_SECONDS", 0.05)
    method = Flaky(failures=1, pause=0.1)
    with pytest.raises(Unavailable):
        await calls.read(SYSTEM, method, empty_pb2.Empty(), dict)
    assert method.calls == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_an_unreachable_role_is_unavailable() -> None:
    settings = Settings(ONCALLNOVA_INTERNAL_TOKEN=TOKEN)
    started = time.monotonic()
    async with open_channel(f"127.0.0.1:{_closed_port()}", settings) as channel:
        with pytest.raises(Unavailable, match="unavailable"):
            await CatalogClient(channel).get(SYSTEM, "svc-1")
        with pytest.raises(Unavailable):
            await SchedulesClient(channel).delete(SYSTEM, "sched-1")
    # Refused connections fail fast, retries and all: no deadline was waited out.
    assert time.monotonic() - started < 8
