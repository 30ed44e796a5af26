"""How a tool is declared, and how it reaches the API as the right caller.

A tool is an async function registered with `@read_tool` or `@write_tool`: its
docstring is the description the assistant reads to choose it, its annotated
parameters are its input schema, and its return type (a pydantic model) is its output
schema. Write tools are only served when enabled; the API decides who may use them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

import httpx
from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import Field

from oncallnova.transport.mcp.client import OnCallNovaApi

Tool = Callable[..., Awaitable[Any]]
T = TypeVar("T", bound=Tool)

# Ids are UUIDs and incident numbers are digits: anything else names nothing, and must
# not be able to change the path of the API call it goes into.
ID_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"
IncidentRef = Annotated[
    str,
    Field(
        pattern=ID_PATTERN,
        description="The incident's id, or its short number (incident #482 is '482').",
    ),
]
Message = Annotated[
    str | None, Field(max_length=10_000, description="Optional; written on its timeline.")
]


@dataclass(frozen=True)
class ToolSpec:
    fn: Tool
    annotations: ToolAnnotations
    writes: bool


TOOLS: list[ToolSpec] = []


def read_tool(title: str) -> Callable[[T], T]:
    """Register a tool that only reads; served whenever the MCP server is."""

    def register(fn: T) -> T:
        hints = ToolAnnotations(title=title, read_only_hint=True, open_world_hint=False)
        TOOLS.append(ToolSpec(fn, hints, writes=False))
        return fn

    return register


def write_tool(
    title: str, *, destructive: bool = False, pages_people: bool = False
) -> Callable[[T], T]:
    """Register a tool that changes something; served only with write tools enabled.
    `destructive`: it ends something for good (assistants may ask before calling it);
    `pages_people`: it reaches people outside OnCallNova."""

    def register(fn: T) -> T:
        hints = ToolAnnotations(
            title=title,
            read_only_hint=False,
            destructive_hint=destructive,
            idempotent_hint=False,
            open_world_hint=pages_people,
        )
        TOOLS.append(ToolSpec(fn, hints, writes=True))
        return fn

    return register


class Connection(Protocol):
    """Where a tool's API calls go, and as whom."""

    def api(self, ctx: Context) -> OnCallNovaApi: ...


def api(ctx: Context) -> OnCallNovaApi:
    """The API as the caller of this tool call (the server's lifespan holds the connection)."""
    connection: Connection = ctx.request_context.lifespan_context
    return connection.api(ctx)


class FixedConnection:
    """Every call through one HTTP client, with its credentials: `oncallnova mcp` (the API
    at ONCALLNOVA_URL as ONCALLNOVA_TOKEN), or a test's client on an app."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    def api(self, ctx: Context) -> OnCallNovaApi:
        return OnCallNovaApi(self._http)
