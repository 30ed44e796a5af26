"""Services, escalation policies and webhooks in a real browser: create, keys, secrets, tests."""

from __future__ import annotations

import json
import re

from playwright.async_api import Browser, Dialog, Locator, Page, expect

from tests.e2e.conftest import Session, create_user, open_session
from tests.system.servers import Server

UNREACHABLE = "http://127.0.0.1:9/"  # nothing listens on the discard port: attempts fail fast


async def accept(dialog: Dialog) -> None:
    await dialog.accept()


def form(page: Page, button: str) -> Locator:
    """The form whose submit button is labelled `button`."""
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


async def test_empty_pages_say_what_to_do(admin: Session, server: Server) -> None:
    page = admin.page
    for url, title, shot in [
        ("/services", "No services yet.", "services-empty"),
        ("/escalation-policies", "No escalation policies yet.", "policies-empty"),
        ("/webhooks", "No webhooks yet.", "webhooks-empty"),
    ]:
        await page.goto(server.url + url)
        await expect(page.get_by_text(title)).to_be_visible()
        await admin.screenshot(shot)


async def test_policy_is_created_and_edited_in_the_page(admin: Session, server: Server) -> None:
    page = admin.page
    await page.goto(f"{server.url}/escalation-policies")
    create = form(page, "Create policy")
    await create.get_by_label("Name", exact=True).fill("Checkout on-call")
    await create.get_by_role("button", name="Create policy").click()  # levels: pre-filled
    await expect(page).to_have_url(re.compile(r"/escalation-policies/[0-9a-f-]+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Checkout on-call")
    await expect(page.locator(".policy-levels li")).to_contain_text("Level 1")

    edit = form(page, "Save")
    await edit.get_by_label("Repeat the levels (times)").fill("2")
    levels = json.loads(await edit.get_by_label("Levels (JSON)").input_value())
    levels.append({**levels[0], "delay_seconds": 900})
    await edit.get_by_label("Levels (JSON)").fill(json.dumps(levels))
    await edit.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("2 more times after the last level")).to_be_visible()
    await expect(page.locator(".policy-levels li")).to_have_count(2)
    await admin.screenshot("policy")
    await page.goto(f"{server.url}/escalation-policies")
    await expect(page.locator("tr[data-policy]")).to_contain_text("Checkout on-call")
    await admin.screenshot("policies")


async def test_service_is_created_with_a_key_and_gets_another(
    admin: Session, server: Server
) -> None:
    page = admin.page
    await page.goto(f"{server.url}/services")
    create = form(page, "Create service")
    await create.get_by_label("Name").fill("checkout")
    await create.get_by_label("Description").fill("Takes the money")
    await create.get_by_label("Escalation policy").select_option(label="Checkout on-call")
    await create.get_by_role("button", name="Create service").click()
    await expect(page).to_have_url(re.compile(r"/services/[0-9a-f-]+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("checkout")

    keys = page.locator("#active-keys li")
    await expect(keys).to_have_count(1)
    first_key = await keys.first.locator("code").inner_text()
    assert len(first_key) >= 20
    await keys.first.get_by_role("button", name="Copy").click()
    await expect(page.locator("#flash")).to_have_text("Copied to the clipboard.")
    await expect(page.locator(f"[data-copy*='{first_key}']").last).to_contain_text("Copy command")

    add = form(page, "Add key")
    await add.get_by_label("New key name").fill("prometheus")
    await add.get_by_role("button", name="Add key").click()
    secret = page.locator("#new-key")
    await expect(secret).to_be_visible()
    await expect(secret).to_contain_text("prometheus")
    new_key = await secret.locator("code").inner_text()
    assert len(new_key) >= 20 and new_key != first_key
    await admin.screenshot("service-new-key")

    await secret.get_by_role("link", name="Done").click()
    await expect(page.locator("#new-key")).to_be_hidden()
    await expect(keys).to_have_count(2)
    page.once("dialog", accept)
    await keys.filter(has_text="prometheus").get_by_role("button", name="Revoke").click()
    await expect(keys).to_have_count(1)
    await expect(page.get_by_text("Revoked keys (1)")).to_be_visible()
    await admin.screenshot("service")

    await page.goto(f"{server.url}/services")
    row = page.locator("tr[data-service]")
    await expect(row).to_contain_text("checkout")
    await expect(row).to_contain_text("Checkout on-call")
    await admin.screenshot("services")


async def test_webhook_secret_is_shown_once_and_a_test_is_logged(
    admin: Session, server: Server
) -> None:
    page = admin.page
    await page.goto(f"{server.url}/webhooks")
    create = form(page, "Create webhook")
    await expect(create.locator("input[name='events[]']:not(:checked)")).to_have_count(0)
    await create.get_by_label("Name").fill("chat-ops")
    await create.get_by_label("URL").fill(UNREACHABLE)
    await create.get_by_label("Custom headers (JSON)").fill('{"X-Team": "payments"}')
    await create.get_by_role("button", name="Create webhook").click()
    box = page.locator("#new-secret")
    await expect(box).to_be_visible()
    await expect(box).to_contain_text("chat-ops")
    secret = await box.locator("code").inner_text()
    assert len(secret) >= 20
    await admin.screenshot("webhooks-new-secret")

    await box.get_by_role("link", name="Done").click()
    await expect(page.locator("#new-secret")).to_be_hidden()
    assert secret not in await page.content()  # shown once
    await admin.screenshot("webhooks")
    await page.get_by_role("link", name="chat-ops").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("chat-ops")
    await expect(page.get_by_text("X-Team", exact=True)).to_be_visible()
    await expect(page.get_by_text("No deliveries yet.")).to_be_visible()

    await page.get_by_role("button", name="Send test").click()
    await expect(page.locator("#flash")).to_contain_text("Test event queued")
    rows = page.locator("tr[data-delivery]")
    for _ in range(50):  # the engine sends within moments; the log shows it after a refresh
        async with page.expect_navigation():
            await page.get_by_role("link", name="Refresh").click()
        if await rows.count():
            break
        await page.wait_for_timeout(200)
    await expect(rows.first).to_contain_text("webhook.test")
    await expect(rows.first).to_contain_text(re.compile("retry|failed"))
    await admin.screenshot("webhook")

    page.once("dialog", accept)
    await page.get_by_role("button", name="Rotate secret").click()
    rotated = page.locator("#rotated-secret")
    await expect(rotated).to_be_visible()
    assert (await rotated.locator("code").inner_text()) not in ("", secret)
    page.once("dialog", accept)
    await page.get_by_role("button", name="Disable").click()
    await expect(page.get_by_role("button", name="Enable")).to_be_visible()
    await expect(page.get_by_text("Old secret")).to_be_visible()


async def test_viewer_reads_services_but_not_webhooks(browser: Browser, server: Server) -> None:
    viewer = create_user(server, "viewer")
    session = await open_session(browser, server, viewer["email"], viewer["password"])
    page = session.page
    await page.goto(f"{server.url}/services")
    await expect(page.locator("tr[data-service]")).to_contain_text("checkout")
    await expect(page.get_by_role("heading", name="New service")).to_have_count(0)
    await page.get_by_role("link", name="checkout", exact=True).click()
    await expect(page.locator("#active-keys li")).to_have_count(1)
    await expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    await expect(page.get_by_role("button", name="Delete service")).to_have_count(0)
    await page.goto(f"{server.url}/webhooks")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    await session.screenshot("webhooks-viewer-refused")
    await session.context.close()
    assert session.foreign == []
