"""A runtime's use cases served over a real gRPC connection: a server on a loopback port
with every servicer of the incidents and oncall roles over the runtime's in-process use
cases, and a `RemoteRuntime` (what the split's `web` and `ingestion` roles run) whose
every use case is a gRPC client of it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from oncallnova.core.tracing import Tracing
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.grpc_serving import servicers
from oncallnova.runtime.remote import RemoteRuntime
from oncallnova.runtime.roles import RoleName
from oncallnova.transport.changes import ChangeFeed
from oncallnova.transport.grpc.channel import server_tracing
from oncallnova.transport.grpc.server import build_server

INTERNAL_TOKEN = "internal-token-for-gRPC-tests-0123"


@asynccontextmanager
async def served_remotely(
    rt: Runtime, front_tracing: Tracing | None = None
) -> AsyncIterator[RemoteRuntime]:
    """The server traces its calls with `rt.tracing`; the remote runtime's clients with
    `front_tracing` (none by default)."""
    settings = rt.settings.model_copy(update={"internal_token": INTERNAL_TOKEN})
    served = dataclasses.replace(rt.use_cases, settings=settings)
    changes = ChangeFeed(rt.incidents.change_marker)
    rt.bus.subscribe(changes.on_event)
    found = [
        *servicers(RoleName.incidents, served, changes, rt.clock),
        *servicers(RoleName.oncall, served, changes, rt.clock),
    ]
    server = build_server(found, settings, interceptors=server_tracing(rt.tracing))
    address = f"127.0.0.1:{await server.start('127.0.0.1:0')}"
    remote = RemoteRuntime(
        settings.model_copy(update={"incidents_grpc_addr": address, "oncall_grpc_addr": address}),
        RoleName.web,
        clock=rt.clock,
        tracing=front_tracing or Tracing(),
    )
    try:
        yield remote
    finally:
        changes.close()
        await remote.stop()
        await server.stop(grace=None)
