"""The incident list and page in a real browser: sign-in, live updates, actions, roles."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import Session, api, create_user, open_session
from tests.system.servers import Server

LIVE_SECONDS = 2_000  # ms: a new incident or a change shows within 2 s without a reload


def service_with_key(server: Server, name: str) -> dict[str, Any]:
    with api(server) as http:
        response = http.post("/api/v1/services", json={"name": name})
        assert response.status_code == 201, response.text
        service: dict[str, Any] = response.json()
    service["key"] = service["integration_keys"][0]["key"]
    return service


def send_alert(server: Server, key: str, title: str, severity: str = "critical") -> str:
    with api(server) as http:
        response = http.post(
            "/api/v1/alerts",
            headers={"X-Routing-Key": key},
            json={"title": title, "severity": severity, "labels": {"region": "eu-west"}},
        )
        assert response.status_code == 202, response.text
        return str(response.json()["alerts"][0]["incident_id"])


async def test_wrong_password_is_shown_in_the_page(browser: Browser, server: Server) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{server.url}/incidents")
    await expect(page).to_have_url(f"{server.url}/login?next=%2Fincidents")
    await page.get_by_label("Email").fill("admin@example.com")
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("wrong email or password")
    await context.close()


async def test_empty_list_says_what_to_do(admin: Session) -> None:
    await expect(admin.page.get_by_text("No incidents. All quiet.")).to_be_visible()
    await admin.screenshot("incidents-empty")


async def test_incident_appears_live_and_is_acknowledged_in_the_page(
    admin: Session, server: Server
) -> None:
    page = admin.page
    await expect(page.locator("#live-status")).to_have_text("Live")
    service = service_with_key(server, "checkout")
    incident_id = send_alert(server, service["key"], "Checkout error rate over 5%")

    row = page.locator(f"tr[data-incident='{incident_id}']")
    await expect(row).to_be_visible(timeout=LIVE_SECONDS)  # no reload
    await expect(row).to_contain_text("triggered")
    await expect(page.locator("[data-count=triggered] strong")).to_have_text("1")
    await expect(page.locator("[data-count=acknowledged] strong")).to_have_text("0")
    await admin.screenshot("incidents-list")

    await row.get_by_role("button", name="Acknowledge").click()
    await expect(row).to_contain_text("acknowledged", timeout=LIVE_SECONDS)
    await expect(page.locator("[data-count=triggered] strong")).to_have_text("0")
    await expect(page.locator("[data-count=acknowledged] strong")).to_have_text("1")

    await row.get_by_role("link").click()
    await expect(page).to_have_url(f"{server.url}/incidents/{incident_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Checkout error rate over 5%")
    await expect(page.locator("#timeline-list li[data-kind=acknowledged]")).to_contain_text("Admin")
    await expect(page.get_by_text("region=eu-west")).to_be_visible()
    await admin.screenshot("incident-acknowledged")

    # a change made elsewhere (the API) shows on the open page without a reload
    with api(server) as http:
        note = http.post(f"/api/v1/incidents/{incident_id}/notes", json={"message": "Rolled back"})
        assert note.status_code == 201, note.text
    timeline = page.locator("#timeline-list")
    await expect(timeline).to_contain_text("Rolled back", timeout=LIVE_SECONDS)

    await page.get_by_role("textbox", name="Note").fill("Error rate back to normal")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.locator("#timeline-list")).to_contain_text("Error rate back to normal")
    await page.get_by_role("button", name="Resolve").click()
    await expect(page.locator("#incident .status")).to_have_text("resolved")
    await expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    await admin.screenshot("incident-resolved")


async def test_filters_narrow_the_list(admin: Session, server: Server) -> None:
    service = service_with_key(server, "search")
    send_alert(server, service["key"], "Search latency high", severity="low")
    page = admin.page
    await page.get_by_label("Text").fill("latency")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("tbody tr")).to_contain_text("Search latency high")
    await page.get_by_label("Text").fill("no such incident")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("No incident matches these filters.")).to_be_visible()
    await admin.screenshot("incidents-no-match")


async def test_viewer_sees_no_actions_and_a_forged_action_is_refused(
    browser: Browser, server: Server
) -> None:
    service = service_with_key(server, "payments")
    incident_id = send_alert(server, service["key"], "Payments API down")
    viewer = create_user(server, "viewer")
    session = await open_session(browser, server, viewer["email"], viewer["password"])
    page = session.page
    row = page.locator(f"tr[data-incident='{incident_id}']")
    await expect(row).to_be_visible()
    await expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    await expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    await page.goto(f"{server.url}/incidents/{incident_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Payments API down")
    for name in ("Acknowledge", "Resolve", "Escalate now", "Add note", "Reassign"):
        await expect(page.get_by_role("button", name=name)).to_have_count(0)
    await session.screenshot("incident-viewer")

    # the same request the button would send, forged from the viewer's page
    forged = await page.evaluate(
        """async (id) => {
            const csrf = document.cookie.match(/oncallnova_csrf=([^;]+)/)[1];
            const r = await fetch(`/api/v1/incidents/${id}/acknowledge`, {
                method: "POST", headers: {"X-CSRF-Token": csrf}});
            return [r.status, await r.text()];
        }""",
        incident_id,
    )
    assert forged[0] == 403, forged
    assert "responder" in forged[1]
    with api(server) as http:
        assert http.get(f"/api/v1/incidents/{incident_id}").json()["status"] == "triggered"
    await session.context.close()
    assert session.foreign == []


@pytest.mark.parametrize("path", ["/incidents/does-not-exist", "/no-such-page"])
async def test_errors_are_pages_not_stack_traces(admin: Session, server: Server, path: str) -> None:
    response = await admin.page.goto(f"{server.url}{path}")
    assert response is not None and response.status == 404
    await expect(admin.page.get_by_role("heading", level=1)).to_have_text("Not found")
    await expect(admin.page.locator("body")).not_to_contain_text("Traceback")
