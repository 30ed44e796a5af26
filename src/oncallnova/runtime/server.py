"""Runs a role of OnCallNova: the HTTP server (uvicorn), the engine, or both."""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
import signal
from types import FrameType

import uvicorn

from oncallnova.runtime.container import Runtime
from oncallnova.runtime.http_guard import ShedLog, guarded_protocol
from oncallnova.settings import Settings
from oncallnova.transport.http.app import create_app, create_metrics_app

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


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    engine: bool = True,
    web: bool = True,
    metrics_only: bool = False,
) -> None:
    """Serve HTTP; `metrics_only` serves just /metrics and /health (`--role metrics`);
    `web` adds the web UI."""
    rt = Runtime(settings)
    app = create_metrics_app(rt) if metrics_only else create_app(rt, engine=engine, web=web)
    tune_gc()
    config = uvicorn.Config(
        app,
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
        rt = Runtime(settings)
        await rt.start(api=False, engine=True)
        log.info("engine running")
        try:
            await stop.wait()
        finally:
            await rt.stop()
            log.info("stopped cleanly")

    asyncio.run(main())
