"""The ingestion routes without the framework's per-request layers.

Monitoring tools post alerts thousands of times a second, one alert per request. For such
a request Starlette's router and exception middleware and FastAPI's request handler
(dependency solving, two exit stacks) cost more CPU than validating and storing the alert
(`benchmarks/results/ingest.md`). `DirectRoutes` sits just inside the app's own
middlewares (request id, metrics, security headers, rate and body limits) and serves the
routes it is given by calling their endpoint with a `Request`; an exception is answered by
the handler the app registered for it, as the framework would. Every other request goes
on through the full stack. The routes stay ordinary FastAPI routes: the OpenAPI document
describes them, and their endpoints take only the `Request`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request, Exception], Awaitable[Response]]


class DirectRoutes:
    def __init__(
        self, app: ASGIApp, routes: Iterable[APIRoute], handlers: Mapping[Any, Handler]
    ) -> None:
        self.app = app
        self.table = {(method, route.path): route for route in routes for method in route.methods}
        # The app's exception handlers (by exception class), read at request time.
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.table.get((scope.get("method"), scope.get("path")))
        if route is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # the template for metrics and traces, as routing sets it
        request = Request(scope, receive, send)
        try:
            response: Response = await route.endpoint(request)
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
