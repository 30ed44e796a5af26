"""Mounts the web UI on the HTTP app: pages, static files, the live stream, and HTML
answers (not JSON) for errors on pages."""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from oncallnova.transport.web import (
    admin_pages,
    analytics_pages,
    incident_pages,
    live,
    oncall_pages,
    people_pages,
    quiet_pages,
)
from oncallnova.transport.web.render import HERE, LoginRequired, render, viewer

PAGE_MODULES = (
    incident_pages,
    oncall_pages,
    admin_pages,
    people_pages,
    analytics_pages,
    quiet_pages,
)
API_PREFIXES = ("/api/", "/v2/", "/health", "/metrics", "/openapi.json", "/docs", "/redoc")
TITLES = {
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "Invalid request",
    429: "Too many requests",
    503: "Unavailable",
}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


async def page_errors(request: Request, status: int, detail: str) -> Response | None:
    """Errors on pages are pages: the message in the layout, never a stack trace."""
    if not is_page(request) or request.method not in ("GET", "HEAD"):
        return None
    title = TITLES.get(status, "Something went wrong")
    if status >= 500:
        detail = "The server could not show this page. Try again; if it persists, check the logs."
    signed_in = None
    if status < 500 and status != 401:
        # keep the navigation for a signed-in user (a 403 or 404 inside the app)
        with contextlib.suppress(Exception):
            signed_in = await viewer(request)
    return render(request, signed_in, "error.html", status=status, title=title, detail=detail)


def install(app: FastAPI) -> None:
    app.state.page_errors = page_errors
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?{urlencode({'next': exc.next_url})}", status_code=303)

    app.include_router(live.router)
    for module in PAGE_MODULES:
        app.include_router(module.router)
