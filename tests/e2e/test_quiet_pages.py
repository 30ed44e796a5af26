"""Heartbeats, maintenance windows and silences in a real browser: create each from its
page, and silence an incident from the incident's page."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import Session, api
from tests.system.servers import Server


def form(page: Page, button: str) -> Locator:
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


def service(server: Server) -> dict[str, str]:
    with api(server) as http:
        created = http.post("/api/v1/services", json={"name": f"quiet-{uuid.uuid4().hex[:6]}"})
        assert created.status_code == 201, created.text
        body = created.json()
    return {"id": body["id"], "name": body["name"], "key": body["integration_keys"][0]["key"]}


def send_alert(server: Server, key: str, title: str, **labels: str) -> str:
    """Send an alert as a monitoring tool would; returns its incident's id."""
    sent = httpx.post(
        f"{server.url}/api/v1/alerts",
        headers={"X-Routing-Key": key},
        json={"title": title, "severity": "high", "labels": labels},
    )
    assert sent.status_code == 202, sent.text
    return str(sent.json()["alerts"][0]["incident_id"])


def beat(url: str) -> int:
    return httpx.post(url).status_code


async def test_a_heartbeat_monitor_is_created_and_beats(admin: Session, server: Server) -> None:
    svc = service(server)
    page = admin.page
    await page.goto(f"{server.url}/heartbeats")
    create = form(page, "Create monitor")
    await create.get_by_label("Name").fill("nightly-backup")
    await create.get_by_label("Service").select_option(label=svc["name"])
    await create.get_by_label("Interval (seconds)").fill("3600")
    await create.get_by_role("button", name="Create monitor").click()
    await expect(page).to_have_url(re.compile(r"/heartbeats/[0-9a-f-]+$"))
    await expect(page.locator(".beat")).to_have_text("inactive")
    url = await page.locator(".copyable code").first.inner_text()
    assert beat(url) == 200  # a beat from a job: the URL is all it needs
    await page.reload()
    await expect(page.locator(".beat")).to_have_text("up")
    await admin.screenshot("heartbeat")
    await page.goto(f"{server.url}/heartbeats")
    await expect(page.locator("tr[data-monitor]")).to_contain_text("nightly-backup")
    await admin.screenshot("heartbeats")


async def test_a_maintenance_window_is_created_for_chosen_services(
    admin: Session, server: Server
) -> None:
    svc = service(server)
    page = admin.page
    await page.goto(f"{server.url}/maintenance")
    create = form(page, "Create window")
    await create.get_by_label("Why").fill("Postgres 16 upgrade")
    await create.get_by_label("Services").select_option(label=[svc["name"]])
    await create.get_by_role("button", name="Create window").click()
    await expect(page).to_have_url(re.compile(r"/maintenance/[0-9a-f-]+$"))
    await expect(page.locator("dl.facts")).to_contain_text(svc["name"])
    await expect(page.locator(".phase-active")).to_be_visible()
    await admin.screenshot("maintenance-window")
    incident = send_alert(server, svc["key"], "replica lag")
    await page.goto(f"{server.url}/incidents/{incident}")
    await expect(page.locator(".held")).to_have_text("in maintenance")
    await page.goto(f"{server.url}/maintenance")
    await expect(page.locator("tr[data-window]")).to_contain_text("Postgres 16 upgrade")
    await admin.screenshot("maintenance")


async def test_an_incident_is_silenced_from_its_page(admin: Session, server: Server) -> None:
    svc = service(server)
    incident = send_alert(server, svc["key"], "Disk full", host="db1", env="prod")
    page = admin.page
    await page.goto(f"{server.url}/incidents/{incident}")
    await page.get_by_role("link", name="Silence…").click()
    await expect(page).to_have_url(re.compile(r"/silences/new\?incident="))
    create = form(page, "Create silence")
    matchers = await create.get_by_label("Matchers (JSON)").input_value()
    assert '"name": "host"' in matchers and '"value": "db1"' in matchers
    await expect(create.get_by_label("Service")).to_have_value(svc["id"])
    await create.get_by_label("Why").fill("db1 is being replaced")
    await admin.screenshot("silence-new")
    await create.get_by_role("button", name="Create silence").click()
    await expect(page).to_have_url(re.compile(r"/silences/[0-9a-f-]+$"))
    await expect(page.locator(".phase-active")).to_be_visible()
    await expect(page.get_by_text("db1 is being replaced").first).to_be_visible()
    await admin.screenshot("silence")
    await page.goto(f"{server.url}/incidents/{incident}")
    await expect(page.locator(".held").first).to_have_text("silenced")
    await page.goto(f"{server.url}/incidents")
    await page.get_by_label("Hide silenced").check()
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator(f'tr[data-incident="{incident}"]')).to_have_count(0)
    await page.goto(f"{server.url}/silences")
    await admin.screenshot("silences")
