"""The split deployment: `--role web` beside `--role api` on one PostgreSQL database.

The web process learns of incidents opened and changed by the other process from the
database (its bus only sees its own changes) and still shows them within 2 seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import open_session
from tests.e2e.test_incidents import LIVE_SECONDS
from tests.system.servers import Server, cli

pytestmark = pytest.mark.postgres


@pytest.fixture
def split(fresh_pg: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    env = {"DATABASE_URL": fresh_pg, "ONCALLNOVA_DATA_DIR": str(tmp_path)}
    env["RATE_LIMIT_ENABLED"] = "false"
    assert cli(env, "db", "upgrade").returncode == 0
    api_server = Server(env, tmp_path / "api.log", "--role", "api").start()
    web_server = Server(env, tmp_path / "web.log", "--role", "web").start()
    yield api_server, web_server
    web_server.stop()
    api_server.stop()


async def test_web_role_shows_changes_made_by_another_process(
    browser: Browser, split: tuple[Server, Server]
) -> None:
    api_server, web_server = split
    # the API role has no pages; the web role has them and the API they call
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(f"{api_server.url}/login")).status_code == 404
    session = await open_session(browser, web_server)
    page = session.page
    await expect(page.locator("#live-status")).to_have_text("Live")

    async with httpx.AsyncClient(base_url=api_server.url, headers=api_server.headers) as http:
        service = (await http.post("/api/v1/services", json={"name": "search"})).json()
        key = service["integration_keys"][0]["key"]
        sent = await http.post(
            "/api/v1/alerts",
            headers={"X-Routing-Key": key},
            json={"title": "Search index stale", "severity": "high"},
        )
        assert sent.status_code == 202, sent.text
        incident_id = sent.json()["alerts"][0]["incident_id"]
        row = page.locator(f"tr[data-incident='{incident_id}']")
        await expect(row).to_be_visible(timeout=LIVE_SECONDS)

        acked = await http.post(f"/api/v1/incidents/{incident_id}/acknowledge")
        assert acked.status_code == 200, acked.text
        await expect(row).to_contain_text("acknowledged", timeout=LIVE_SECONDS)
    await session.context.close()
