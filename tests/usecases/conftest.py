"""The use cases under test, two ways: as the all-in-one calls them (in process), and as
the split roles call them (gRPC clients over a real connection to a server that serves
the same runtime's use cases). Every test that takes `uc` runs both ways, as the tests
that take `backend` run on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from oncallnova.runtime.container import Runtime
from oncallnova.runtime.grpc_serving import servicers
from oncallnova.runtime.remote import RemoteRuntime
from oncallnova.runtime.roles import RoleName
from oncallnova.runtime.services import Services
from oncallnova.transport.changes import ChangeFeed
from oncallnova.transport.grpc.server import build_server

INTERNAL_TOKEN = "internal-token-for-use-case-tests"


@pytest.fixture(params=["in-process", "grpc"])
async def uc(request: pytest.FixtureRequest, rt: Runtime) -> AsyncIterator[Services]:
    if request.param == "in-process":
        yield rt.use_cases
        return
    settings = rt.settings.model_copy(update={"internal_token": INTERNAL_TOKEN})
    served = dataclasses.replace(rt.use_cases, settings=settings)
    changes = ChangeFeed(rt.incidents.change_marker)
    rt.bus.subscribe(changes.on_event)
    found = [
        *servicers(RoleName.incidents, served, changes, rt.clock),
        *servicers(RoleName.oncall, served, changes, rt.clock),
    ]
    server = build_server(found, settings)
    port = await server.start("127.0.0.1:0")
    address = f"127.0.0.1:{port}"
    remote = RemoteRuntime(
        settings.model_copy(update={"incidents_grpc_addr": address, "oncall_grpc_addr": address}),
        RoleName.web,
        clock=rt.clock,
    )
    try:
        yield remote.use_cases
    finally:
        changes.close()
        await remote.stop()
        await server.stop(grace=None)
