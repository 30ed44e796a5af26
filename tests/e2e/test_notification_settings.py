"""A responder sets, in a real browser, how they are reached: an ntfy contact method (the
form shows the fields of the type chosen), a test sent to it, a notification rule and a
shift reminder with its test; each test arrives at an ntfy stand-in on loopback that
checks ntfy's documented JSON. A page then reaches the same contact method."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import api, create_user, open_session
from tests.support.formats import ServiceReceiver
from tests.system.servers import Server


@pytest.fixture
def ntfy() -> Iterator[ServiceReceiver]:
    with ServiceReceiver("ntfy") as receiver:
        yield receiver


def accept_confirms(page: Page) -> None:
    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)


async def test_responder_sets_and_tests_contact_methods_rules_and_reminders(
    browser: Browser, server: Server, ntfy: ServiceReceiver
) -> None:
    rita = create_user(server, "responder", time_zone="Europe/Berlin")
    session = await open_session(browser, server, rita["email"], rita["password"])
    page = session.page
    accept_confirms(page)
    await page.goto(f"{server.url}/account")
    await page.get_by_role("link", name="Your page").click()
    await expect(page.get_by_role("heading", name="Contact methods")).to_be_visible()
    await expect(page.locator("#rule-list")).to_contain_text("every contact method at once")

    form = page.locator("#new-contact")
    await expect(form.get_by_label("Email address")).to_be_visible()
    await expect(form.get_by_label("Topic")).to_be_hidden()
    await form.get_by_label("Type").select_option("ntfy")
    await expect(form.get_by_label("Email address")).to_be_hidden()
    await form.get_by_label("Name").fill("phone")
    await form.get_by_label("ntfy server").fill(ntfy.url)
    await form.get_by_label("Topic").fill("rita-pager")
    await form.get_by_role("button", name="Add contact method").click()
    await expect(page.locator("#flash")).to_have_text("Contact method added.")
    row = page.locator("#contact-list tr", has_text="rita-pager")
    await expect(row).to_contain_text("ntfy")
    await expect(form.get_by_label("Topic")).to_be_hidden()  # the form is reset to email

    await row.get_by_role("button", name="Send test").click()
    await expect(page.locator("#flash")).to_have_text("Test sent to phone.")
    [test] = ntfy.wait_for(1)
    assert test.problems == [] and test.body["topic"] == "rita-pager"
    assert test.body["title"] == "Test notification from OnCallNova"

    rule = page.locator("#new-rule")
    await rule.get_by_label("Notify").select_option(label="phone (ntfy: 127.0.0.1)")
    await rule.get_by_label("After (minutes)").fill("2")
    await rule.get_by_role("button", name="Add rule").click()
    await expect(page.locator("#rule-list")).to_contain_text("After 2 min: phone (ntfy")

    reminder = page.locator("#new-reminder")
    await reminder.get_by_label("When").select_option("end")
    await reminder.get_by_label("On").select_option(label="phone (ntfy: 127.0.0.1)")
    await reminder.get_by_role("button", name="Add reminder").click()
    listed = page.locator("#reminder-list li", has_text="When a shift ends")
    await expect(listed).to_contain_text("phone")
    await listed.get_by_role("button", name="Send test").click()
    await expect(page.locator("#flash")).to_have_text("Test reminder sent.")
    posted = ntfy.wait_for(2)
    assert posted[1].problems == []
    assert posted[1].body["title"] == "Test: Your on-call shift ended: your schedule (sample)"
    assert "CET" in posted[1].body["message"] or "CEST" in posted[1].body["message"]
    await session.screenshot("person-notifications")

    with api(server) as http:
        saved = http.get(f"/api/v1/users/{rita['id']}/notification-rules").json()["rules"]
        assert [r["delay_minutes"] for r in saved] == [2]
        assert len(http.get(f"/api/v1/users/{rita['id']}/shift-reminders").json()["reminders"]) == 1

    await page.locator("#rule-list li").get_by_role("button", name="Remove").click()
    await expect(page.locator("#rule-list")).to_contain_text("every contact method at once")
    await session.context.close()
    assert session.foreign == []
