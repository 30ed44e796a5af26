"""The MCP server both transports serve: the tools, and what the assistant is told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer

from oncallnova import __version__
from oncallnova.transport.mcp import read_tools as _reads
from oncallnova.transport.mcp import write_tools as _writes
from oncallnova.transport.mcp.registry import TOOLS, Connection

INSTRUCTIONS = """\
OnCallNova is where this team's alerts become incidents and where on-call schedules live.
- What is going on: list_incidents with status ['triggered', 'acknowledged'] (open ones,
  most urgent first); get_incident for one incident's alerts and timeline.
- What happened last time: similar_incidents gives earlier incidents of the same kind,
  how they were resolved and how long they took.
- Who to call: who_is_on_call (now, or at an instant), per schedule and per service.
- Incidents are named by id or short number (#482 is '482'); times are ISO 8601.
Write tools, when offered, act as the token's user and are audited; confirm with the
user before resolving or escalating.
"""

# Imported for their registrations: each module declares its tools in TOOLS.
_REGISTERED = (_reads, _writes)


def build_server(connection: Connection, *, write_tools: bool = False) -> MCPServer:
    """The read tools, and the write tools when enabled; every tool reaches the API
    through `connection`."""

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Connection]:
        yield connection

    server = MCPServer(
        "oncallnova",
        title="OnCallNova",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
    )
    for spec in TOOLS:
        if write_tools or not spec.writes:
            server.add_tool(spec.fn, annotations=spec.annotations, structured_output=True)
    return server
