"""`/mcp` on `serve`: the MCP tools over streamable HTTP, for assistants that connect by URL.

Each request must carry an API token as a bearer. The tools' API calls are handed to
this same app in process, with that token and the caller's address, so they act with
the token's role and are rate-limited and audited as the caller's own API calls.

The server is stateless (JSON answers, no MCP sessions kept in memory), so any replica
behind a load balancer can answer any request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from oncallnova.auth.api import AuthService
from oncallnova.core.errors import Unauthenticated
from oncallnova.core.logs import request_id_var
from oncallnova.runtime.services import Services
from oncallnova.transport.mcp.client import OnCallNovaApi
from oncallnova.transport.mcp.server import build_server

PATH = "/mcp"
IN_PROCESS = "http://oncallnova.internal"  # the base URL of the tools' in-process API calls
CLIENT = "oncallnova.client"  # request extension: the address the API sees the call from
HOW_TO_AUTHENTICATE = (
    "send an OnCallNova API token as 'Authorization: Bearer ocn_...' (create one in the web "
    "UI under Account, API tokens, or with POST /api/v1/auth/api-tokens)"
)


def install_mcp(app: FastAPI) -> None:
    """Serve the MCP tools at /mcp; the write tools too with MCP_WRITE_TOOLS."""
    svc: Services = app.state.use_cases
    # The SDK logs each request at INFO, and httpx each in-process API call: noise beside
    # the server's own logs, which have no line per request either.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    logging.getLogger("httpx").addFilter(_not_in_process)
    connection = CallerConnection(app)
    server = build_server(connection, write_tools=svc.settings.mcp_write_tools)
    # Bearer tokens are the only credential here (never cookies), so a rebinding page
    # cannot borrow a browser's session: the Host check would only refuse real names.
    server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    gate = BearerGate(manager.handle_request, svc.auth)
    app.router.add_route(PATH, gate, include_in_schema=False)

    @asynccontextmanager
    async def running(_: Any) -> AsyncIterator[None]:
        async with manager.run():
            try:
                yield
            finally:
                await connection.aclose()

    # FastAPI runs an included router's lifespan inside the app's own.
    app.include_router(APIRouter(lifespan=running))


class BearerGate:
    """Lets a request through to the MCP server only with a valid API token as a bearer;
    otherwise 401, as the API answers. (An ASGI app, so Starlette routes to it as is.)"""

    def __init__(self, app: ASGIApp, auth: AuthService) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        problem = None
        if scheme.lower() != "bearer" or not token.strip():
            problem = HOW_TO_AUTHENTICATE
        else:
            ip = request.client.host if request.client else None
            try:
                who, _ = await self.auth.authenticate(token.strip(), ip)
            except Unauthenticated as exc:
                problem = f"{exc.message}: {HOW_TO_AUTHENTICATE}"
            else:
                if who.via != "api-token":
                    problem = f"a sign-in token expires; {HOW_TO_AUTHENTICATE}"
        if problem is not None:
            refusal = JSONResponse(
                {"detail": problem}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
            await refusal(scope, receive, send)
            return
        await self.app(_with_request_id(scope), receive, send)


class CallerConnection:
    """The tools' API calls, handed to `app` in process as the MCP request's caller: its
    bearer token, its request id (so the log lines go together) and its address."""

    def __init__(self, app: ASGIApp) -> None:
        self._http = httpx.AsyncClient(
            transport=InProcessTransport(app), base_url=IN_PROCESS, timeout=30
        )

    def api(self, ctx: Context) -> OnCallNovaApi:
        request = ctx.request_context.request
        headers = {
            name: value
            for name in ("authorization", "x-request-id")
            if (value := request.headers.get(name)) is not None
        }
        client = (request.client.host, request.client.port) if request.client else None
        return OnCallNovaApi(self._http, headers=headers, extensions={CLIENT: client})

    async def aclose(self) -> None:
        await self._http.aclose()


class InProcessTransport(httpx.AsyncBaseTransport):
    """httpx's ASGI transport, with the client address each request names."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = request.extensions.get(CLIENT) or ("127.0.0.1", 0)
        transport = httpx.ASGITransport(app=self.app, client=client)
        return await transport.handle_async_request(request)


def _not_in_process(record: logging.LogRecord) -> bool:
    return IN_PROCESS not in record.getMessage()


def _with_request_id(scope: Scope) -> Scope:
    """The scope with this request's id as a header, for the tools to pass on."""
    request_id = request_id_var.get()
    headers = [(k, v) for k, v in scope["headers"] if k != b"x-request-id"]
    if request_id:
        headers.append((b"x-request-id", request_id.encode("latin-1")))
    return {**scope, "headers": headers}
