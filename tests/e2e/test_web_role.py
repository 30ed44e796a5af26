"""The split installation in a browser: `--role web` shows what the other roles (each its
own process, talking gRPC) change, live, within 2 seconds: an alert that reached
`ingestion`, an acknowledgement made through `incidents`' own HTTP API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import open_session
from tests.e2e.test_incidents import LIVE_SECONDS
from tests.system.split import Split

pytestmark = pytest.mark.postgres


@pytest.fixture
def split(fresh_pg: str, tmp_path: Path) -> Iterator[Split]:
    running = Split(fresh_pg, tmp_path).start()
    try:
        yield running
    finally:
        running.stop()


async def test_web_role_shows_changes_made_by_other_processes(
    browser: Browser, split: Split
) -> None:
    incidents = split.servers["incidents"]
    # the incidents role has no pages; the web role has them and the API they call
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(f"{incidents.url}/login")).status_code == 404
    session = await open_session(browser, split.servers["web"])
    page = session.page
    await expect(page.locator("#live-status")).to_have_text("Live")

    headers = split.servers["web"].headers  # one token, accepted by every role
    async with (
        httpx.AsyncClient(base_url=incidents.url, headers=headers) as http,
        httpx.AsyncClient(base_url=split.url("ingestion")) as ingest,
    ):
        service = (await http.post("/api/v1/services", json={"name": "search"})).json()
        key = service["integration_keys"][0]["key"]
        sent = await ingest.post(
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
