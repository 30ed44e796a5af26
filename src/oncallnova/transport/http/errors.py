"""Maps domain errors and bad requests to JSON responses that name the problem.

Every error body has `detail` (one sentence) and, for bad input, `errors` (one message
per offending field).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from oncallnova.alerts.formats.errors import field_messages
from oncallnova.core.db import sqlstate, unavailable
from oncallnova.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Overloaded,
    RetryLater,
    Unauthenticated,
    Unavailable,
)
from oncallnova.core.retry import CONFLICT_SQLSTATES
from oncallnova.transport.http.deps import use_cases

log = logging.getLogger(__name__)

STATUS = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    Unauthenticated: 401,
    Forbidden: 403,
    Overloaded: 429,
    Unavailable: 503,
}


class BadRequest(Exception):
    """Input the handler refuses; carries its status and field messages."""

    def __init__(self, status: int, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


def error_body(detail: str, errors: list[str] | None = None) -> dict[str, object]:
    body: dict[str, object] = {"detail": detail}
    if errors:
        body["errors"] = errors
    return body


# A web UI installs one of these: it answers errors of its pages (not of the API) in HTML.
PageErrors = Callable[[Request, int, str], Awaitable[Response | None]]
# Routes whose senders expect their own tool's error body (Opsgenie's) register one of
# these for their path prefix: (status, detail, field errors) -> the body.
Dialect = Callable[[int, str, list[str]], dict[str, object]]


def add_dialect(app: FastAPI, prefix: str, dialect: Dialect) -> None:
    """Errors on paths under `prefix` are answered with `dialect`'s body."""
    if not hasattr(app.state, "error_dialects"):
        app.state.error_dialects = []
    app.state.error_dialects.append((prefix, dialect))


def _reshaped(request: Request, status: int, body: dict[str, object]) -> dict[str, object]:
    path = request.url.path
    for prefix, dialect in getattr(request.app.state, "error_dialects", ()):
        if path.startswith(prefix):
            errors = body.get("errors")
            return dialect(status, str(body["detail"]), errors if isinstance(errors, list) else [])
    return body


async def answer(
    request: Request,
    status: int,
    body: dict[str, object],
    headers: dict[str, str] | None = None,
) -> Response:
    """The JSON error, or the web UI's page for errors on one of its pages."""
    pages: PageErrors | None = getattr(request.app.state, "page_errors", None)
    if pages is not None:
        page = await pages(request, status, str(body["detail"]))
        if page is not None:
            return page
    return JSONResponse(_reshaped(request, status, body), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> Response:
        return await answer(request, exc.status, error_body(exc.detail, exc.errors))

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        body = error_body(exc.message, [f"{exc.field}: {exc.message}"] if exc.field else None)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RetryLater) else None
        if isinstance(exc, Unauthenticated):
            headers = {"WWW-Authenticate": "Bearer"}
        return await answer(request, status, body, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for error in exc.errors():
            location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
            errors.append(f"{location}: {error.get('msg', 'invalid')}")
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        detail = "malformed JSON body" if malformed else "invalid request: " + "; ".join(errors)
        return await answer(request, 400 if malformed else 422, error_body(detail, errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # Some carry field messages (text_guard.InvalidText), raised where only an
        # HTTPException gets through the framework's body parsing.
        body = error_body(str(exc.detail), getattr(exc, "errors", None))
        return await answer(request, exc.status_code, body, exc.headers)

    async def _database(request: Request, exc: Exception) -> Response:
        """An outage is a 503 with Retry-After, logged once by the database's `outage`
        (not a traceback per request). A value the database refuses, or a conflict with
        stored rows, is the request's fault: validation should have caught it first."""
        if unavailable(exc):
            use_cases(request).database_failed(exc)
            detail = "the database is unavailable; the request was not applied"
            return await answer(request, 503, error_body(detail), {"Retry-After": "5"})
        code = sqlstate(exc) or ""
        where = f"{request.method} {request.url.path}"
        if code.startswith("22"):
            log.warning("the database refused a value on %s: %s", where, exc)
            detail = "a value is outside what the database can store; nothing was applied"
            return await answer(request, 422, error_body(detail))
        if code in CONFLICT_SQLSTATES:
            log.warning("concurrent transaction conflict on %s: %s", where, exc)
            detail = "a concurrent change conflicted with this request; nothing was applied"
            return await answer(request, 503, error_body(detail), {"Retry-After": "1"})
        if code.startswith("23"):
            log.warning("conflict with stored rows on %s: %s", where, exc)
            detail = "the request conflicts with stored data; nothing was applied"
            return await answer(request, 409, error_body(detail))
        log.exception("database error on %s", where)
        return await answer(request, 500, error_body("internal error; the request was not applied"))

    # The PostgreSQL driver's connection errors are not DBAPI errors (see core/db.py).
    for kind in (DBAPIError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _: ClientDisconnect) -> JSONResponse:
        # The client went away before sending its whole body: nothing was stored.
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return JSONResponse(error_body("client disconnected"), status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await answer(request, 500, error_body("internal error; the request was not applied"))


def validation_detail(messages: list[str]) -> BadRequest:
    """422 for a body that parsed as JSON but does not fit the schema; 400 if not JSON."""
    if any("Invalid JSON" in m for m in messages):
        return BadRequest(400, "malformed JSON body: " + messages[0], messages)
    return BadRequest(422, "invalid request body: " + "; ".join(messages[:5]), messages)


__all__ = [
    "BadRequest",
    "add_dialect",
    "answer",
    "error_body",
    "field_messages",
    "install",
    "validation_detail",
]
