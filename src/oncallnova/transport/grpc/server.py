"""A `grpc.aio` server for some of OnCallNova's gRPC services.

Every server also serves the standard health service (`grpc.health.v1.Health`, open to
probes without the internal token) and reflection (`grpcurl -H 'authorization: Bearer
…' HOST:PORT list`), and requires the internal token on everything else (see
`interceptors.py`). It only serves what it is given: which servicers a role runs is the
composition root's choice.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from oncallnova.settings import Settings
from oncallnova.transport.grpc.channel import message_options
from oncallnova.transport.grpc.interceptors import ServerAuth

GEN = "oncallnova.transport.grpc.gen.oncallnova.v1."
SERVING = health_pb2.HealthCheckResponse.SERVING


@dataclass(frozen=True)
class Registration:
    """How to add a servicer to a server, and the full name clients call it by."""

    name: str  # e.g. "oncallnova.v1.IncidentService"
    add: Callable[[Any, grpc.aio.Server], None]


def registration(servicer: object) -> Registration:
    """Found from the generated base class the servicer extends (`IncidentServiceServicer`
    in `incidents_pb2_grpc`), so callers pass servicers and nothing else."""
    for base in type(servicer).__mro__:
        module = sys.modules.get(base.__module__)
        if module is None or not module.__name__.startswith(GEN):
            continue
        service = base.__name__.removesuffix("Servicer")
        add = getattr(module, f"add_{base.__name__}_to_server", None)
        messages = importlib.import_module(module.__name__.removesuffix("_grpc"))
        described = messages.DESCRIPTOR.services_by_name.get(service)
        if add is not None and described is not None:
            return Registration(described.full_name, add)
    raise TypeError(f"{type(servicer).__name__} extends no generated OnCallNova servicer")


@dataclass
class GrpcServer:
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    services: list[str] = field(default_factory=list)

    async def start(self, address: str) -> int:
        """Listen on `address` (`host:port`; port 0 picks one) and serve; returns the port."""
        port = self.server.add_insecure_port(address)
        if port == 0:
            raise OSError(f"cannot listen for gRPC on {address}")
        await self.server.start()
        for name in ("", *self.services):  # "" is the whole server
            await self.health.set(name, SERVING)
        return port

    async def stop(self, grace: float | None = 5.0) -> None:
        """Health turns NOT_SERVING first, so probes see it going before calls are cut."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


def build_server(
    servicers: Sequence[object],
    settings: Settings,
    *,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    database_failed: Callable[[BaseException], None] | None = None,
) -> GrpcServer:
    """A server for `servicers` (instances of the generated `…Servicer` classes), not yet
    listening: `await built.start(settings.incidents_grpc_addr)`, say."""
    if not settings.internal_token:
        raise ValueError("set ONCALLNOVA_INTERNAL_TOKEN to serve gRPC: the roles share it")
    # Every servicer is checked before the server exists: a wrong one is refused at once,
    # with or without a running event loop.
    found = [(servicer, registration(servicer)) for servicer in servicers]
    server = grpc.aio.server(
        # The given interceptors (tracing) outermost, so their span covers the token check.
        interceptors=[*interceptors, ServerAuth(settings.internal_token, database_failed)],
        options=message_options(settings),
    )
    names = []
    for servicer, registered in found:
        registered.add(servicer, server)
        names.append(registered.name)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    reflection.enable_server_reflection([*names, health_name, reflection.SERVICE_NAME], server)
    return GrpcServer(server, checker, names)
