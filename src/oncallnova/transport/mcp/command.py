"""`oncallnova mcp`: the MCP tools over stdio, for desktop assistants.

It is a client of a running OnCallNova (ONCALLNOVA_URL, with the API token
ONCALLNOVA_TOKEN); it opens no database. stdout carries the protocol, so its logs go to
stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Annotated

import typer


def mcp_command(
    enable_write_tools: Annotated[
        bool,
        typer.Option(
            "--enable-write-tools",
            help="Also offer acknowledge, resolve, note, escalate, override and silence tools "
            "(the token's role still decides); MCP_WRITE_TOOLS=true does the same.",
        ),
    ] = False,
) -> None:
    """Serve OnCallNova's MCP tools on stdin/stdout, for an AI assistant: they call the
    OnCallNova at ONCALLNOVA_URL with the API token ONCALLNOVA_TOKEN."""
    from pydantic import ValidationError

    from oncallnova.core.logs import configure
    from oncallnova.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:  # said on stderr: stdout is the protocol's
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "settings"
            typer.echo(f"configuration error: {name}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc
    configure(level=settings.log_level, fmt=settings.log_format, role="mcp", stream=sys.stderr)
    logging.getLogger("mcp").setLevel(logging.WARNING)  # the SDK logs each request at INFO
    if not settings.api_token:
        typer.echo(
            "error: set ONCALLNOVA_TOKEN to an OnCallNova API token (web UI: Account, API "
            "tokens; or POST /api/v1/auth/api-tokens)",
            err=True,
        )
        raise typer.Exit(2)
    write_tools = enable_write_tools or settings.mcp_write_tools
    asyncio.run(_serve(settings.api_url, settings.api_token, write_tools))


async def _serve(url: str, token: str, write_tools: bool) -> None:
    import httpx

    from oncallnova import __version__
    from oncallnova.transport.mcp.registry import FixedConnection
    from oncallnova.transport.mcp.server import build_server

    headers = {"Authorization": f"Bearer {token}", "User-Agent": f"oncallnova-mcp/{__version__}"}
    async with httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=30) as http:
        server = build_server(FixedConnection(http), write_tools=write_tools)
        await server.run_stdio_async()
