"""Analytics in the browser: the empty state first, then charts of alerts sent through the
API, acknowledged and resolved through the API; screenshots at desktop and phone width."""

from __future__ import annotations

import time

from playwright.async_api import Page, expect

from tests.e2e.conftest import PHONE, Session, api
from tests.system.servers import Server


async def no_sideways_scroll(page: Page) -> None:
    await page.set_viewport_size(PHONE)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"


async def test_empty_state(admin: Session, server: Server) -> None:
    page = admin.page
    await page.goto(f"{server.url}/analytics")
    await expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    await expect(page.get_by_text("No incidents in the last 7 days")).to_be_visible()
    await expect(page.locator("svg[role=img]")).to_have_count(0)
    await no_sideways_scroll(page)
    await admin.screenshot("analytics-empty")


def send_alerts(server: Server) -> None:
    """Two services; five incidents (one alert repeated), three acknowledged, two resolved."""
    with api(server) as http:
        keys = {}
        for name in ("checkout", "search-and-recommendations"):
            body = {"name": name, "correlation_key": ["title"]}
            created = http.post("/api/v1/services", json=body)
            assert created.status_code == 201, created.text
            keys[name] = created.json()["integration_keys"][0]["key"]
        plan = [
            ("checkout", "Checkout error rate over 5%", "critical"),
            ("checkout", "Checkout error rate over 5%", "critical"),  # a repeat
            ("checkout", "Payment latency p99 > 2s", "high"),
            ("search-and-recommendations", "Index lag", "medium"),
            ("search-and-recommendations", "Disk 80% full", "low"),
            ("checkout", "Card processor timeouts", "critical"),
        ]
        ids = []
        for service, title, severity in plan:
            sent = http.post(
                "/api/v1/alerts",
                json={"title": title, "severity": severity},
                headers={"X-Routing-Key": keys[service]},
            )
            assert sent.status_code == 202, sent.text
            ids.append(sent.json()["alerts"][0]["incident_id"])
        incidents = list(dict.fromkeys(ids))
        assert len(incidents) == 5
        time.sleep(1.2)  # durations of a second or more
        for incident_id in incidents[:3]:
            done = http.post(f"/api/v1/incidents/{incident_id}/acknowledge")
            assert done.status_code == 200, done.text
        time.sleep(1.2)
        for incident_id in (incidents[0], incidents[3]):
            done = http.post(f"/api/v1/incidents/{incident_id}/resolve")
            assert done.status_code == 200, done.text


async def test_charts_of_the_week(admin: Session, server: Server) -> None:
    send_alerts(server)
    page = admin.page
    await page.goto(f"{server.url}/analytics")
    stats = page.get_by_role("list", name="Totals for the period")
    await expect(stats.locator("[data-stat=incidents] strong")).to_have_text("5")
    await expect(stats.locator("[data-stat=alerts] strong")).to_have_text("6")
    await expect(stats.locator("[data-stat=alerts-per-incident] strong")).to_have_text("1.20")
    # volume, 2 histograms, 2 trends, noise, escalation, services, acks
    await expect(page.locator("svg[role=img]")).to_have_count(9)
    volume = page.get_by_role("img", name="Incidents per day by severity")
    await expect(volume).to_be_visible()
    await expect(volume.locator("rect.fill-critical")).to_have_count(1)
    legend = page.get_by_role("list", name="Severity colours").first
    for severity in ("critical", "high", "medium", "low"):
        await expect(legend.get_by_text(severity)).to_be_visible()
    mtta = page.locator("table[data-metric=MTTA] tr[data-severity=all] td")
    await expect(mtta.first).to_have_text("3")
    mttr = page.locator("table[data-metric=MTTR] tr[data-severity=all] td")
    await expect(mttr.first).to_have_text("2")
    await expect(page.get_by_role("img", name="Busiest services")).to_be_visible()
    await expect(page.get_by_role("link", name="checkout")).to_have_attribute(
        "href", f"/incidents?service_id={await service_id(server, 'checkout')}"
    )
    await page.get_by_text("Incidents per day as a table").click()
    await expect(page.locator("table[data-table=volume] tbody tr")).to_have_count(8)
    await admin.screenshot("analytics")
    await no_sideways_scroll(page)


async def test_filters_by_severity_and_period(admin: Session, server: Server) -> None:
    page = admin.page
    await page.goto(f"{server.url}/analytics")
    await page.locator("select[name=period]").select_option("24h")
    await page.locator("select[name=severity]").select_option("critical")
    await page.get_by_role("button", name="Apply").click()
    await page.wait_for_url("**/analytics?period=24h&severity=critical**")
    stats = page.get_by_role("list", name="Totals for the period")
    await expect(stats.locator("[data-stat=incidents] strong")).to_have_text("2")
    volume = page.get_by_role("img", name="Incidents per hour by severity")
    await expect(volume.locator("rect.fill-critical")).to_have_count(1)
    await expect(volume.locator("rect.fill-high")).to_have_count(0)
    await page.locator("select[name=service]").select_option(label="search-and-recommendations")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.get_by_text("match these filters")).to_be_visible()
    await page.get_by_role("link", name="Reset").click()
    await expect(stats.locator("[data-stat=incidents] strong")).to_have_text("5")


async def service_id(server: Server, name: str) -> str:
    with api(server) as http:
        found = [s["id"] for s in http.get("/api/v1/services").json()["items"] if s["name"] == name]
    return str(found[0])
