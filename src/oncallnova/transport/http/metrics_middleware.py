"""HTTP request durations for Prometheus, as a pure ASGI middleware.

The route label is the matched route's template (`/api/v1/incidents/{incident_id}`),
which the router leaves in the shared ASGI scope, never the raw path, so the number of
series stays bounded; requests that match no route (404s, and requests refused before
routing such as 413 or 429) are labelled `other`. The cost is one `perf_counter` pair
and one histogram observation per request.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oncallnova.core.metrics import Metrics


class HttpMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.histogram = metrics.http_duration

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) if route is not None else None
            self.histogram.labels(scope["method"], template or "other", str(status)).observe(
                elapsed
            )


def install_http_metrics(app: FastAPI, metrics: Metrics) -> None:
    """Wraps the whole middleware stack (call it last, so it is outermost): the time
    includes rate limiting, the body limit and the error handlers."""
    build = app.build_middleware_stack

    def build_with_metrics() -> ASGIApp:
        return HttpMetrics(build(), metrics)

    app.build_middleware_stack = build_with_metrics  # type: ignore[method-assign]
