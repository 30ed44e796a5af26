"""The FastAPI application: routes, error mapping, body limit, lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from opentelemetry import propagate, trace
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oncallnova import __version__
from oncallnova.core.bus import EventBus
from oncallnova.core.logs import RequestIdMiddleware
from oncallnova.core.pubsub import RedisChannels
from oncallnova.core.ratelimit import RedisBreaker
from oncallnova.core.tracing import Tracing
from oncallnova.runtime.services import Services
from oncallnova.transport.changes import ChangeFeed
from oncallnova.transport.http import (
    analytics_routes,
    auth_routes,
    contact_routes,
    docs_routes,
    errors,
    grafana_oncall_routes,
    heartbeat_routes,
    incident_routes,
    ingest_routes,
    metrics_routes,
    oncall_routes,
    opsgenie_routes,
    pagerduty_routes,
    people_routes,
    service_routes,
    silence_routes,
    webhook_routes,
)
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.http.direct import install_direct_routes
from oncallnova.transport.http.limits import BodyLimit
from oncallnova.transport.http.metrics_middleware import install_http_metrics
from oncallnova.transport.http.ratelimit import install_rate_limits
from oncallnova.transport.http.security import install_security_headers
from oncallnova.transport.http.text_guard import TextGuard
from oncallnova.transport.web import site

log = logging.getLogger("oncallnova")
ROUTE_MODULES = (
    ingest_routes,
    pagerduty_routes,
    opsgenie_routes,
    grafana_oncall_routes,
    auth_routes,
    incident_routes,
    service_routes,
    people_routes,
    contact_routes,
    oncall_routes,
    webhook_routes,
    analytics_routes,
    heartbeat_routes,
    silence_routes,
)


async def health(request: Request) -> JSONResponse:
    try:
        await asyncio.wait_for(use_cases(request).ping_database(), timeout=3)
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"},
            status_code=503,
        )
    started = getattr(request.app.state, "started_at", None)
    uptime = None if started is None else round(time.monotonic() - started, 1)
    return JSONResponse(
        {"status": "ok", "database": "ok", "version": __version__, "uptime_seconds": uptime}
    )


class Host(Protocol):
    """What an app needs of the process serving it (the composition root's Runtime): the
    use cases its routes call, and the parts its middlewares and lifespan use."""

    use_cases: Services
    bus: EventBus
    redis_breaker: RedisBreaker
    # Redis pub/sub (REDIS_URL): the live stream hears other processes' changes on it.
    pubsub: RedisChannels | None
    tracing: Tracing

    async def start(
        self, *, migrate: bool = True, engine: bool = True, api: bool = True
    ) -> None: ...

    async def stop(self) -> None: ...


def create_app(
    rt: Host,
    *,
    manage_runtime: bool = True,
    engine: bool = True,
    web: bool = True,
    prefixes: tuple[str, ...] | None = None,
    bootstrap: bool = True,
) -> FastAPI:
    """The HTTP app; with `manage_runtime` its lifespan starts and stops the runtime.
    `web` adds the web UI's pages and its live stream. With `prefixes`, only the API
    routes under them are served (a split role's share, see `runtime/roles.py`), beside
    /health and /metrics. `bootstrap` creates the first admin when there are no users."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_runtime:
            await rt.start(engine=engine)
            if bootstrap:
                await _first_admin(rt)
        try:
            yield
        finally:
            if web:
                feed.close()
            if manage_runtime:
                await rt.stop()
                log.info("stopped cleanly: queued alerts stored, connections closed")

    app = FastAPI(
        title="OnCallNova",
        version=__version__,
        description="Self-hosted incident management and on-call.",
        lifespan=lifespan,
        docs_url=None,  # the docs pages are docs_routes', served without a CDN
        redoc_url=None,
    )
    app.state.use_cases = svc = rt.use_cases
    app.state.started_at = time.monotonic()  # for the uptime /health reports
    errors.install(app)
    app.add_middleware(TextGuard)  # inside the body limit: it reads what that lets through
    app.add_middleware(BodyLimit, max_bytes=svc.settings.max_body_bytes)
    install_rate_limits(app, svc.settings, rt.redis_breaker)  # per-IP, before the body limit
    # The ingestion routes get a lane without the framework's layers (see direct.py).
    install_direct_routes(
        app,
        ingest_routes.router,
        pagerduty_routes.router,
        opsgenie_routes.router,
        grafana_oncall_routes.router,
    )
    errors.add_dialect(app, opsgenie_routes.PREFIX, opsgenie_routes.error_body)
    # wraps all of the above; ReDoc's page gets the policy it needs (see security.py)
    install_security_headers(app, svc.settings.trusted_proxies, [docs_routes.REDOC])
    install_http_metrics(app, svc.metrics)  # times everything
    app.add_middleware(RequestIdMiddleware)  # outermost: a request id for every log line
    _install_tracing(app, rt.tracing)  # around all of it: log lines carry the trace id

    app.get("/health", tags=["health"], summary="Liveness and database reachability")(health)

    for module in ROUTE_MODULES:
        app.include_router(module.router)
    if prefixes is not None:
        app.router.routes[:] = [r for r in app.router.routes if _claimed(r, prefixes)]
    app.include_router(metrics_routes.router)  # GET /metrics, not in the OpenAPI document
    docs_routes.install(app)  # /docs and /redoc with their assets, not in the document
    if svc.settings.mcp_enabled:  # /mcp: the MCP tools for assistants (imported only then)
        from oncallnova.transport.mcp.http import install_mcp

        install_mcp(app)
    if web:
        feed = ChangeFeed(svc.incidents.change_marker, pubsub=rt.pubsub)
        rt.bus.subscribe(feed.on_event)
        app.state.live_feed = feed
        app.state.on_exit_signal = [feed.close_threadsafe]
        site.install(app)
    _document_raw_bodies(app)
    return app


def _claimed(route: BaseRoute, prefixes: tuple[str, ...]) -> bool:
    """Whether a split role serves `route`: every route that is not an API route
    (the OpenAPI document), /health, and the API routes under its prefixes."""
    path = getattr(route, "path", "")
    return (
        not isinstance(route, APIRoute)
        or path == "/health"
        or any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in prefixes)
    )


def create_metrics_app(rt: Host, *, manage_runtime: bool = True) -> FastAPI:
    """`serve --role metrics`: only `GET /metrics` and `GET /health`; no
    ingestion writers and no engine. Its state metrics come from the shared database."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_runtime:
            await rt.start(engine=False, api=False)
        try:
            yield
        finally:
            if manage_runtime:
                await rt.stop()

    app = FastAPI(
        title="OnCallNova metrics",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.use_cases = svc = rt.use_cases
    app.state.started_at = time.monotonic()  # for the uptime /health reports
    errors.install(app)
    install_rate_limits(app, svc.settings, rt.redis_breaker)
    install_security_headers(app, svc.settings.trusted_proxies)
    install_http_metrics(app, svc.metrics)
    app.add_middleware(RequestIdMiddleware)
    app.get("/health", tags=["health"], summary="Liveness and database reachability")(health)
    app.include_router(metrics_routes.router)
    return app


# --- Tracing: one server span per HTTP request ---------------------------------------


class HttpTracing:
    """A pure ASGI middleware: a span per request, a child of the caller's W3C
    `traceparent` when it sends one, named `METHOD route-template` once routing has
    left the matched route in the scope. Without a provider it only passes through."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.tracing.enabled:
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        with self.tracing.tracer.start_as_current_span(
            method,
            context=propagate.extract(carrier),
            kind=trace.SpanKind.SERVER,
            attributes={"http.method": method},
        ) as span:
            status = 500  # what the client gets if the app raises before answering

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, send_status)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) if route is not None else None
                if template:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                span.set_attribute("http.status_code", status)
                if status >= 500:
                    span.set_status(trace.StatusCode.ERROR)


def _install_tracing(app: FastAPI, tracing: Tracing) -> None:
    build = app.build_middleware_stack

    def build_with_tracing() -> ASGIApp:
        return HttpTracing(build(), tracing)

    app.build_middleware_stack = build_with_tracing  # type: ignore[method-assign]


# --- end tracing --------------------------------------------------------------------


async def _first_admin(rt: Host) -> None:
    """With no users yet, create the admin; a generated password is shown once, here."""
    settings = rt.use_cases.settings
    generated = await rt.use_cases.auth.bootstrap_admin(
        settings.admin_email, settings.admin_password
    )
    email = settings.admin_email or "admin@oncallnova.local"
    if generated:
        banner = (
            "\n  No users yet: created the admin account\n"
            f"    email:    {email}\n    password: {generated}\n"
            "  It is shown only now. Sign in with it (POST /api/v1/auth/token), then change it"
            "\n  (PUT /api/v1/users/<id>/password) or create your own users.\n"
        )
        print(banner, flush=True)
    elif settings.admin_password and settings.admin_email:
        log.info("admin account %s is ready", email)


def _document_raw_bodies(app: FastAPI) -> None:
    """Adds the schemas that raw-body routes reference to the OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            extra = {
                **ingest_routes.extra_schemas(),
                **pagerduty_routes.extra_schemas(),
                **opsgenie_routes.extra_schemas(),
            }
            for name, value in extra.items():
                assert isinstance(value, dict)
                components.update(value.pop("$defs", {}))
                components[name] = value
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
