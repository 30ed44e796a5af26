"""Runs a role of OnCallNova: the HTTP server (uvicorn), the engine, or both."""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
import signal
from types import FrameType

import uvicorn
from fastapi import FastAPI

from oncallnova.runtime.container import Runtime
from oncallnova.runtime.grpc_serving import GrpcEndpoint, needs_token
from oncallnova.runtime.http_guard import ShedLog, guarded_protocol
from oncallnova.runtime.remote import RemoteRuntime
from oncallnova.runtime.roles import ROLES, RoleName
from oncallnova.settings import Settings
from oncallnova.transport.http.app import Host, create_app, create_metrics_app

log = logging.getLogger("oncallnova")


def tune_gc() -> None:
    """Fewer, cheaper garbage collections: objects alive at start-up (modules, the app)
    are moved out of the collector's way, and young collections run less often. Request
    handling allocates many short-lived objects; the default thresholds spend a tenth of
    the ingestion CPU collecting them."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def connection_limit(settings: Settings) -> int:
    """`HTTP_MAX_CONNECTIONS`, lowered if the open-file limit leaves less room: beside
    its connections a process needs descriptors for its database pool, logs and files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return settings.http_max_connections
    room = max(1, soft - 2 * settings.db_pool_size - 64)
    if room < settings.http_max_connections:
        log.warning(
            "HTTP_MAX_CONNECTIONS=%d does not fit the open-file limit (%d); using %d",
            settings.http_max_connections,
            soft,
            room,
        )
        return room
    return settings.http_max_connections


def build_app(
    settings: Settings, role: RoleName | str, host: str, grpc_port: int | None
) -> FastAPI:
    """The HTTP app of a role, over the runtime the role needs: its own use cases on the
    database for the roles that own data, gRPC clients for the front ends (`ingestion`,
    `web`). `api` is every API route on the database in one process, without the web UI
    and the engine."""
    if role == "api":
        return create_app(Runtime(settings, role=RoleName.incidents), engine=False, web=False)
    name = RoleName(role)
    needs_token(settings, name)
    grpc = GrpcEndpoint.default(name, host, grpc_port)
    if name in (RoleName.ingestion, RoleName.web):
        host_rt: Host = RemoteRuntime(settings, name, grpc=grpc)
    else:
        host_rt = Runtime(settings, role=name, grpc=grpc)
    if name is RoleName.metrics:
        return create_metrics_app(host_rt)
    if name is RoleName.all:
        return create_app(host_rt)
    if name is RoleName.web:
        return create_app(host_rt, engine=False, bootstrap=False)
    return create_app(
        host_rt,
        engine=False,
        web=False,
        prefixes=ROLES[name].http_prefixes,
        # The first admin is made where the people are.
        bootstrap=name is RoleName.oncall,
    )


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    role: RoleName | str = RoleName.all,
    grpc_port: int | None = None,
) -> None:
    """Serve a role's HTTP app (and its gRPC server, for the roles that have one) until
    SIGTERM or SIGINT."""
    built: list[FastAPI] = []

    def factory() -> FastAPI:
        # Built by uvicorn inside its event loop: gRPC channels and servers belong to the
        # loop they are made in.
        app = build_app(settings, role, host, grpc_port)
        built.append(app)
        tune_gc()
        return app

    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        http=guarded_protocol(
            header_timeout=settings.http_header_timeout_seconds,
            body_timeout=settings.http_body_timeout_seconds,
            max_connections=connection_limit(settings),
            shed=ShedLog(),
        ),
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,  # uvicorn's lines go through our (JSON) root handler too
        timeout_graceful_shutdown=30,
        server_header=False,
        # TRUSTED_PROXIES alone decides whom to believe about client addresses.
        proxy_headers=False,
    )
    # uvicorn handles SIGINT/SIGTERM: stop accepting, finish requests, run the lifespan end.
    # Open live streams (web UI) are ended first, or uvicorn would wait for them.
    server = uvicorn.Server(config)
    handle_exit = server.handle_exit

    def on_exit(sig: int, frame: FrameType | None) -> None:
        for app in built:
            for hook in getattr(app.state, "on_exit_signal", []):
                hook()
        handle_exit(sig, frame)

    server.handle_exit = on_exit  # type: ignore[method-assign]
    server.run()


def run_engine(settings: Settings) -> None:
    """The engine alone, until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        rt = Runtime(settings, role=RoleName.engine)
        await rt.start(api=False, engine=True)
        log.info("engine running")
        try:
            await stop.wait()
        finally:
            await rt.stop()
            log.info("stopped cleanly")

    asyncio.run(main())
