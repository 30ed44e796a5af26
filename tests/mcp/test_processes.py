"""The MCP server as assistants meet it, against real `oncallnova serve` processes: over
stdio (`oncallnova mcp` as a subprocess, as a desktop assistant starts it) and over
streamable HTTP at `/mcp`, with the SDK's own client."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.mcp import checks
from tests.mcp.seed import Seeded, seed
from tests.system.servers import Server, cli

pytestmark = pytest.mark.slow


def _serve(tmp: Path, **env: str) -> Iterator[Server]:
    base = {
        "ONCALLNOVA_DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": "",
        "MCP_ENABLED": "true",
        "RATE_LIMIT_ENABLED": "false",  # seeding and checks are bursts from one address
    }
    # A generous deadline: the machine may be busy with other work.
    server = Server({**base, **env}, tmp / "server.log").start(timeout=180)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """MCP on, write tools off (the default)."""
    yield from _serve(tmp_path_factory.mktemp("mcp-read"))


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """MCP on with MCP_WRITE_TOOLS=true."""
    yield from _serve(tmp_path_factory.mktemp("mcp-write"), MCP_WRITE_TOOLS="true")


async def _seed(server: Server) -> Seeded:
    async def tick() -> None:
        await asyncio.sleep(0.05)  # so every MTTR is measurably above zero

    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as http:
        return await seed(http, tick)


@pytest.fixture(scope="module")
async def seeded(server: Server) -> Seeded:
    return await _seed(server)


@pytest.fixture(scope="module")
async def seeded_writer(writer: Server) -> Seeded:
    return await _seed(writer)


def over_stdio(server: Server, token: str, tmp: Path, *args: str, **env: str) -> Client:
    """`oncallnova mcp` started as an assistant's configuration would: only its own
    environment (the SDK passes a minimal one), in a directory without a .env file."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "oncallnova", "mcp", *args],
        env={"ONCALLNOVA_URL": server.url, "ONCALLNOVA_TOKEN": token, "LOG_LEVEL": "WARNING"} | env,
        cwd=tmp,
    )
    return Client(params, read_timeout_seconds=60)


# The HTTP client connects from this loopback address, so the API calls the tools make in
# process can be seen to carry the caller's address rather than a default one.
CALLER = "127.0.0.3"


@asynccontextmanager
async def over_http(server: Server, token: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx2.AsyncHTTPTransport(local_address=CALLER)
    async with (
        httpx2.AsyncClient(transport=transport, headers=headers, timeout=60) as http,
        Client(streamable_http_client(f"{server.url}/mcp", http_client=http)) as client,
    ):
        yield client


def audit(server: Server) -> list[dict[str, object]]:
    response = httpx.get(f"{server.url}/api/v1/audit?limit=50", headers=server.headers, timeout=10)
    response.raise_for_status()
    entries: list[dict[str, object]] = response.json()
    return entries


# Tests run in this order: the reads first, then the writes, which change the seeded
# incident (the last of them on each server).


async def test_stdio_read_tools(server: Server, seeded: Seeded, tmp_path: Path) -> None:
    async with over_stdio(server, seeded.responder_token, tmp_path) as client:
        await checks.check_read_tools(client, seeded)


async def test_http_read_tools_and_no_write_tools_by_default(
    server: Server, seeded: Seeded
) -> None:
    async with over_http(server, seeded.responder_token) as client:
        await checks.check_read_tools(client, seeded)


def test_http_needs_an_api_token(server: Server, seeded: Seeded) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    for headers, says in (
        ({}, "send an OnCallNova API token"),
        ({"Authorization": "Bearer ocn_wrong"}, "invalid or revoked API token"),
        (server.headers, "a sign-in token expires"),  # the admin's JWT
    ):
        response = httpx.post(f"{server.url}/mcp", json=ping, headers=headers, timeout=10)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert says in response.json()["detail"]


def test_stdio_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    done = cli({"ONCALLNOVA_TOKEN": "", "ONCALLNOVA_DATA_DIR": str(tmp_path)}, "mcp")
    assert done.returncode == 2
    assert "set ONCALLNOVA_TOKEN to an OnCallNova API token" in done.stderr
    assert done.stdout == ""  # stdout is the protocol's
    env = {"ONCALLNOVA_TOKEN": "ocn_x", "JWT_SECRET": "short", "ONCALLNOVA_DATA_DIR": str(tmp_path)}
    misconfigured = cli(env, "mcp")
    assert misconfigured.returncode == 2 and misconfigured.stdout == ""
    assert "configuration error: JWT_SECRET" in misconfigured.stderr


async def test_stdio_write_tools_are_refused_to_a_viewer(
    server: Server, seeded: Seeded, tmp_path: Path
) -> None:
    client = over_stdio(server, seeded.viewer_token, tmp_path, "--enable-write-tools")
    async with client:
        await checks.check_viewer_is_refused(client, seeded)


async def test_stdio_write_tools_act_and_are_audited(
    server: Server, seeded: Seeded, tmp_path: Path
) -> None:
    client = over_stdio(server, seeded.responder_token, tmp_path, MCP_WRITE_TOOLS="true")
    async with client:
        await checks.check_responder_acts(client, seeded)
    checks.check_audit(audit(server), seeded)


async def test_http_write_tools_are_refused_to_a_viewer(
    writer: Server, seeded_writer: Seeded
) -> None:
    async with over_http(writer, seeded_writer.viewer_token) as client:
        await checks.check_viewer_is_refused(client, seeded_writer)


async def test_http_write_tools_act_as_the_tokens_user_and_are_audited(
    writer: Server, seeded_writer: Seeded
) -> None:
    async with over_http(writer, seeded_writer.responder_token) as client:
        await checks.check_responder_acts(client, seeded_writer)
    entries = audit(writer)
    checks.check_audit(entries, seeded_writer)
    # Done in process through the API, but seen from the MCP caller's address.
    assert {e["ip"] for e in entries[: len(checks.AUDITED)]} == {CALLER}
