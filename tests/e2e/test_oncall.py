"""On call now, the schedules and a schedule in a real browser: who is on call, and an
override made in the page changing it everywhere."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Browser, Dialog, expect

from tests.e2e.conftest import Session, api, create_user, open_session
from tests.system.servers import Server


def local(at: datetime) -> str:
    """A `datetime-local` value; the browser context runs in UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def post(server: Server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with api(server) as http:
        response = http.post(path, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
    return created


def person(server: Server, name: str) -> dict[str, Any]:
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}@example.com"
    return post(server, "/api/v1/users", {"name": name, "email": email, "role": "responder"})


def rotation(server: Server, suffix: str = "") -> dict[str, Any]:
    """Two responders on a daily schedule whose current turn (Ann's) began an hour ago,
    a team, and a service whose escalation policy pages the schedule first."""
    ann, ben = person(server, "Ann Archer" + suffix), person(server, "Ben Baker" + suffix)
    handoff = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    layer = {"name": "Primary", "users": [ann["id"], ben["id"]], "turn": "daily"}
    schedule = post(
        server,
        "/api/v1/schedules",
        {
            "name": "Payments primary" + suffix,
            "layers": [{**layer, "handoff": handoff.isoformat()}],
        },
    )
    targets = [{"type": "schedule", "id": schedule["id"]}]
    policy = post(
        server,
        "/api/v1/escalation-policies",
        {"name": "Payments" + suffix, "levels": [{"targets": targets}]},
    )
    team = post(
        server, "/api/v1/teams", {"name": "Payments team" + suffix, "member_ids": [ann["id"]]}
    )
    service = post(
        server,
        "/api/v1/services",
        {"name": "checkout" + suffix, "escalation_policy_id": policy["id"], "team_id": team["id"]},
    )
    return {"ann": ann, "ben": ben, "schedule": schedule, "service": service}


async def test_empty_states_say_what_to_do(admin: Session) -> None:
    page = admin.page
    await page.goto(f"{admin.origin}/oncall")
    await expect(page.get_by_role("heading", level=1)).to_have_text("On call now")
    await expect(page.get_by_text("Nobody is on call yet.")).to_be_visible()
    await admin.screenshot("oncall-empty")
    await page.get_by_role("link", name="Create a schedule").click()
    await expect(page.get_by_text("No schedules yet.")).to_be_visible()
    await expect(page.get_by_role("heading", name="New schedule")).to_be_visible()
    await admin.screenshot("schedules-empty")


async def test_override_in_the_page_changes_who_is_on_call(admin: Session, server: Server) -> None:
    data = rotation(server)
    ann, ben, schedule = data["ann"]["name"], data["ben"]["name"], data["schedule"]
    page = admin.page

    await page.goto(f"{server.url}/oncall")
    service_row = page.locator(f"tr[data-service='{data['service']['id']}']")
    await expect(service_row.locator("[data-oncall]")).to_have_text(ann)
    await expect(service_row).to_contain_text(ben)  # next
    await expect(page.get_by_role("heading", name="Payments team")).to_be_visible()
    schedule_row = page.locator(f"tr[data-schedule='{schedule['id']}']")
    await expect(schedule_row.locator("[data-oncall]")).to_have_text(ann)
    await admin.screenshot("oncall")

    await page.goto(f"{server.url}/schedules")
    await expect(page.locator(f"tr[data-schedule='{schedule['id']}'] [data-oncall]")).to_have_text(
        ann
    )
    await admin.screenshot("schedules")

    await page.get_by_role("link", name="Payments primary").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Payments primary")
    now_box = page.locator(".oncall-now")
    await expect(now_box).to_contain_text(ann)
    await expect(page.locator("li.day")).to_have_count(14)
    await expect(page.get_by_text(schedule["ical_url"])).to_be_visible()

    form = page.locator("form[data-api$='/overrides']")
    now = datetime.now(UTC)
    await form.get_by_label("Who is on call").select_option(data["ben"]["id"])
    await form.get_by_label("From", exact=True).fill(local(now - timedelta(minutes=5)))
    await form.get_by_label("To", exact=True).fill(local(now + timedelta(hours=2)))
    await form.get_by_role("button", name="Add override").click()
    await expect(now_box).to_contain_text(ben)
    await expect(now_box).to_contain_text("(override)")
    await expect(page.locator("tr[data-override]")).to_contain_text("active now")
    await admin.screenshot("schedule")

    await page.goto(f"{server.url}/oncall")
    await expect(service_row.locator("[data-oncall]")).to_have_text(ben)
    await expect(schedule_row.locator("[data-oncall]")).to_have_text(ben)

    # deleting the override gives the turn back
    await page.goto(f"{server.url}/schedules/{schedule['id']}")

    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)
    await page.locator("tr[data-override]").get_by_role("button", name="Delete").click()
    await expect(page.locator("tr[data-override]")).to_have_count(0)
    await expect(now_box).to_contain_text(ann)


async def test_viewer_sees_times_in_their_zone_and_no_forms(
    browser: Browser, server: Server
) -> None:
    data = rotation(server, " (viewer)")
    viewer = create_user(server, "viewer", "Europe/Paris")
    session = await open_session(browser, server, viewer["email"], viewer["password"])
    page = session.page
    await page.goto(f"{server.url}/oncall")
    row = page.locator(f"tr[data-schedule='{data['schedule']['id']}']")
    await expect(row.locator("[data-oncall]")).to_have_text(data["ann"]["name"])
    await expect(row).to_contain_text(re.compile(r"CES?T"))  # Paris time
    await page.goto(f"{server.url}/schedules/{data['schedule']['id']}")
    await expect(page.locator(".oncall-now")).to_contain_text(data["ann"]["name"])
    await expect(page.locator("form")).to_have_count(0)
    await expect(page.get_by_role("button", name="Make a new link")).to_have_count(0)
    await session.context.close()
    assert session.foreign == []


async def test_admin_creates_a_schedule_in_the_page(admin: Session, server: Server) -> None:
    ann, ben = person(server, "Cleo Cole"), person(server, "Dan Drake")
    page = admin.page
    await page.goto(f"{server.url}/schedules")
    form = page.locator("form[data-api='/api/v1/schedules']")
    await form.get_by_label("Name", exact=True).fill("Database weekly")
    await form.get_by_label("Time zone").fill("Europe/Berlin")
    await form.get_by_label("People, in turn order").select_option([ann["id"], ben["id"]])
    await form.locator("select[name='layers.0.turn']").select_option("weekly")
    await form.get_by_label("First handoff").fill(local(datetime.now(UTC) - timedelta(days=1)))
    await form.get_by_role("button", name="Create schedule").click()
    await expect(page).to_have_url(re.compile(r"/schedules/[0-9a-f-]+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Database weekly")
    await expect(page.locator(".oncall-now")).to_contain_text(ann["name"])
    await expect(page.get_by_text("Schedule in Europe/Berlin")).to_be_visible()
