"""The MCP server in process, with the SDK's client: its tools call the REST API of an app
on SQLite and on PostgreSQL, as the API token they are given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from mcp.client.client import Client

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from oncallnova.transport.mcp.registry import FixedConnection
from oncallnova.transport.mcp.server import build_server
from tests.conftest import RuntimeFactory, api_client
from tests.mcp import checks
from tests.mcp.seed import Seeded, seed


@pytest.fixture
async def rt(make_runtime: RuntimeFactory) -> Runtime:
    # The seeding and the checks make more calls from one address than the per-address
    # burst allows.
    return await make_runtime(RATE_LIMIT_ENABLED="false")


@pytest.fixture
async def seeded(rt: Runtime, clock: FakeClock) -> Seeded:
    async def tick() -> None:
        clock.advance(600)

    async with api_client(rt) as admin:
        return await seed(admin, tick)


@asynccontextmanager
async def mcp_client(rt: Runtime, token: str, *, write_tools: bool) -> AsyncIterator[Client]:
    async with api_client(rt, token) as http:
        server = build_server(FixedConnection(http), write_tools=write_tools)
        async with Client(server) as client:
            yield client


async def test_read_tools_answer_from_the_api(rt: Runtime, seeded: Seeded) -> None:
    async with mcp_client(rt, seeded.responder_token, write_tools=False) as client:
        await checks.check_read_tools(client, seeded)


# The API's writes are tested on both databases elsewhere; these check the MCP layer.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@SQLITE_ONLY
async def test_write_tools_are_refused_to_a_viewer(rt: Runtime, seeded: Seeded) -> None:
    async with mcp_client(rt, seeded.viewer_token, write_tools=True) as client:
        await checks.check_viewer_is_refused(client, seeded)


@SQLITE_ONLY
async def test_write_tools_act_as_the_responder_and_are_audited(
    rt: Runtime, seeded: Seeded
) -> None:
    async with mcp_client(rt, seeded.responder_token, write_tools=True) as client:
        await checks.check_responder_acts(client, seeded)
    async with api_client(rt) as admin:
        audit = await admin.get("/api/v1/audit", params={"limit": 50})
    checks.check_audit(audit.json(), seeded)


@SQLITE_ONLY
async def test_a_refused_token_says_how_to_get_one(rt: Runtime) -> None:
    async with mcp_client(rt, "ocn_not-a-token", write_tools=False) as client:
        text = await checks.refusal(client, "list_incidents", {})
    assert "refused the API token (invalid or revoked API token)" in text
    assert "POST /api/v1/auth/api-tokens" in text


async def test_an_unreachable_server_is_named() -> None:
    async with (
        httpx.AsyncClient(base_url="http://127.0.0.1:9") as http,
        Client(build_server(FixedConnection(http))) as client,
    ):
        text = await checks.refusal(client, "who_is_on_call", {})
    assert "OnCallNova at http://127.0.0.1:9 cannot be reached" in text
    assert "ONCALLNOVA_URL" in text


@SQLITE_ONLY
async def test_mcp_is_served_only_when_enabled(make_runtime: RuntimeFactory) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    async with api_client(await make_runtime()) as http:
        assert (await http.post("/mcp", json=ping)).status_code == 404
    async with api_client(await make_runtime(MCP_ENABLED="true")) as http:
        # an admin's sign-in token: /mcp takes API tokens only
        refused = await http.post("/mcp", json=ping)
    assert refused.status_code == 401
    assert "a sign-in token expires" in refused.json()["detail"]
