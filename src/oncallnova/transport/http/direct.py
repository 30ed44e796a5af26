"""The ingestion routes without the framework's per-request layers.

Monitoring tools post alerts thousands of times a second, one alert per request. For such
a request the framework's own layers (Starlette's error and exception middlewares and
router, FastAPI's telemetry and body-size middlewares and its request handler with
dependency solving and two exit stacks) cost more CPU than validating and storing the
alert (`benchmarks/results/ingest.md`). `install_direct_routes` gives the routes it is
given a lane of their own: the app's user middlewares (request id, rate and body limits),
then a call of the route's endpoint with a `Request`; an exception is answered by the
handler the app registered for it, as the framework would. The wrappers installed after
it (security headers, metrics, tracing) surround both lanes. Every other request takes
the full stack. The routes stay ordinary FastAPI routes: the OpenAPI document describes
them, and their endpoints take only the `Request`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request, Exception], Awaitable[Response]]


class Endpoints:
    """Calls the endpoint of the matched route (left in `scope["route"]`)."""

    def __init__(self, handlers: Mapping[Any, Handler]) -> None:
        # The app's exception handlers by exception class, read at request time.
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response: Response = await scope["route"].endpoint(request)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Handler | None:
        for kind in type(exc).__mro__:
            if kind in self.handlers:
                return self.handlers[kind]
        return None


class DirectRoutes:
    """Fixed paths are found in a table; paths with parameters (an alert's identifier, an
    integration's token) by matching each such route, as routing would."""

    def __init__(self, full: ASGIApp, lane: ASGIApp, routes: Iterable[APIRoute]) -> None:
        self.full = full
        self.lane = lane
        routes = list(routes)
        self.table = {
            (method, route.path): route
            for route in routes
            if not route.param_convertors
            for method in route.methods
        }
        self.patterns = [route for route in routes if route.param_convertors]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.full(scope, receive, send)
            return
        route = self.table.get((scope.get("method"), scope.get("path")))
        if route is None:
            route = self._match(scope)
        if route is None:
            await self.full(scope, receive, send)
            return
        scope["route"] = route  # the template for metrics and traces, as routing sets it
        await self.lane(scope, receive, send)

    def _match(self, scope: Scope) -> APIRoute | None:
        for route in self.patterns:
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope["path_params"] = child.get("path_params", {})
                return route
        return None


def install_direct_routes(app: FastAPI, *routers: APIRouter) -> None:
    """Gives the routes of `routers` the direct lane. Wraps the app's middleware stack;
    install it before the wrappers that must surround both lanes (security headers,
    metrics, tracing)."""
    build = app.build_middleware_stack
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]

    def build_with_direct_routes() -> ASGIApp:
        lane: ASGIApp = Endpoints(app.exception_handlers)
        for cls, args, kwargs in reversed(app.user_middleware):
            lane = cls(lane, *args, **kwargs)
        return DirectRoutes(build(), lane, routes)

    app.build_middleware_stack = build_with_direct_routes  # type: ignore[method-assign]
