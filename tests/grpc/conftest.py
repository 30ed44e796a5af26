"""A real `grpc.aio` server on a loopback port serving a real Runtime's use cases, and
the checks every service's tests share: the client answers what the in-process
service answers, value for value, and fails as it fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from pydantic_core import to_jsonable_python

from oncallnova.core.authz import SYSTEM, Principal, Role
from oncallnova.core.clock import FakeClock
from oncallnova.core.errors import DomainError
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.services import Services
from oncallnova.services.schemas import ServiceIn
from oncallnova.settings import Settings
from oncallnova.transport.grpc.channel import open_channel
from oncallnova.transport.grpc.server import build_server
from oncallnova.transport.grpc.servicers.analytics import AnalyticsServicer
from oncallnova.transport.grpc.servicers.auth import AuthServicer
from oncallnova.transport.grpc.servicers.catalog import CatalogServicer
from oncallnova.transport.grpc.servicers.contacts import ContactServicer
from oncallnova.transport.grpc.servicers.heartbeats import HeartbeatServicer
from oncallnova.transport.grpc.servicers.notify import WebhooksServicer
from oncallnova.transport.grpc.servicers.oncall import OnCallServicer
from oncallnova.transport.grpc.servicers.people import PeopleServicer
from oncallnova.transport.grpc.servicers.suppression import MaintenanceServicer, SilenceServicer
from oncallnova.users.schemas import UserIn

TOKEN = "internal-token-for-tests-0123456789"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def servicers(u: Services) -> list[object]:
    return [
        OnCallServicer(u.oncall, u.schedules, u.policies),
        CatalogServicer(u.catalog),
        PeopleServicer(u.users),
        ContactServicer(u.contacts, u.contact_tests),
        AuthServicer(u.auth, u.audit),
        WebhooksServicer(u.webhooks),
        AnalyticsServicer(u.analytics),
        HeartbeatServicer(u.heartbeats, u.beats),
        SilenceServicer(u.silences),
        MaintenanceServicer(u.maintenance),
    ]


@asynccontextmanager
async def serving(rt: Runtime) -> AsyncIterator[grpc.aio.Channel]:
    """A channel to a server of every servicer here over `rt`'s use cases."""
    settings = Settings(ONCALLNOVA_INTERNAL_TOKEN=TOKEN)
    built = build_server(servicers(rt.use_cases), settings)
    port = await built.start("127.0.0.1:0")
    try:
        async with open_channel(f"127.0.0.1:{port}", settings) as channel:
            yield channel
    finally:
        await built.stop(grace=None)


async def person(rt: Runtime, role: Role) -> Principal:
    """A user with `role` (no password: hashing one is slow), as the principal acting
    for them."""
    email = f"{role.name}@example.com"
    data = UserIn(name=role.name.title(), email=email, role=role.name)  # type: ignore[arg-type]
    user = await rt.use_cases.users.create_user(SYSTEM, data)
    return Principal(user_id=user.id, name=data.name, email=email, role=role, via="jwt")


@dataclass
class Stack:
    rt: Runtime
    channel: grpc.aio.Channel
    admin: Principal
    responder: Principal
    viewer: Principal
    clock: FakeClock

    @property
    def local(self) -> Services:
        return self.rt.use_cases


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One SQLite Runtime and one server for a test module: the transport is what these
    tests check, and the data layer is the same either way."""
    where: Path = tmp_path_factory.mktemp("grpc")
    clock = FakeClock(START)
    settings = Settings(
        DATABASE_URL=f"sqlite:///{where / 'oncallnova.db'}", ONCALLNOVA_DATA_DIR=str(where)
    )
    rt = Runtime(settings, clock=clock)
    await rt.start(engine=False)
    try:
        people = [await person(rt, role) for role in (Role.admin, Role.responder, Role.viewer)]
        async with serving(rt) as channel:
            yield Stack(rt, channel, *people, clock=clock)
    finally:
        await rt.stop()


async def new_service(stack: Stack, name: str) -> str:
    """A new service's id, made in process."""
    service, _ = await stack.local.catalog.create(stack.admin, ServiceIn(name=name))
    return service.id


def same(got: Any, want: Any) -> None:
    """Equal values of the same types, down to how they print (a time's offset too)."""
    assert got == want
    assert type(got) is type(want)
    if isinstance(want, list | tuple) and want:
        assert [type(x) for x in got] == [type(x) for x in want]
    assert to_jsonable_python(got) == to_jsonable_python(want)


async def same_error(remote: Awaitable[Any], local: Awaitable[Any]) -> DomainError:
    """Both calls fail with the same error: class, message and field."""
    with pytest.raises(DomainError) as over_grpc:
        await remote
    with pytest.raises(DomainError) as in_process:
        await local
    got, want = over_grpc.value, in_process.value
    assert (type(got), got.message, got.field) == (type(want), want.message, want.field)
    return got
