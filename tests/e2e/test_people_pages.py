"""People, teams and the account page in a real browser: an admin adds a user and a team,
sets a password and a contact method; API tokens are shown once, work, and are revoked."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import Session, api, create_user, open_session
from tests.system.servers import Server


def accept_confirms(page: Page) -> None:
    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)


async def test_admin_adds_a_user_and_a_team(admin: Session, server: Server) -> None:
    page = admin.page
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Grace Hopper {suffix}", f"grace-{suffix}@example.com"
    await page.goto(f"{server.url}/people")
    await expect(page.get_by_role("heading", level=1)).to_have_text("People")
    await expect(page.get_by_text("No teams yet.")).to_be_visible()
    await admin.screenshot("people-empty-teams")

    form = page.locator("#new-user")
    await form.get_by_label("Name", exact=True).fill(name)
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Role").select_option("responder")
    await form.get_by_label("Time zone").select_option("America/New_York")
    await form.get_by_role("button", name="Add user").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    user_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator("dl.facts")).to_contain_text("America/New_York")

    # a password, so they can sign in
    await page.get_by_label("New password").fill("grace-password-123")
    await page.get_by_role("button", name="Set password").click()
    await expect(page.locator("#flash")).to_have_text("Password set.")
    async with httpx.AsyncClient(base_url=server.url) as http:
        signed = await http.post(
            "/api/v1/auth/token", data={"username": email, "password": "grace-password-123"}
        )
        assert signed.status_code == 200, signed.text

    # a second contact method, added through the API beside the one already there
    await (
        page.locator("#new-contact")
        .get_by_label("Email address")
        .fill(f"pager-{suffix}@example.com")
    )
    await page.get_by_role("button", name="Add contact method").click()
    await expect(page.locator("#contact-list")).to_contain_text(f"pager-{suffix}@example.com")
    with api(server) as http:
        methods = http.get(f"/api/v1/users/{user_id}").json()["contact_methods"]
    assert [m["address"] for m in methods] == [email, f"pager-{suffix}@example.com"]
    await admin.screenshot("people-person")

    await page.goto(f"{server.url}/people")
    form = page.locator("#new-team")
    await form.get_by_label("Name", exact=True).fill(f"Platform {suffix}")
    await form.get_by_label("Description").fill("Runs the clusters")
    await form.get_by_label("Members").select_option([user_id])
    await form.get_by_role("button", name="Create team").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Platform {suffix}")
    await expect(page.locator("#member-list")).to_contain_text(name)
    await admin.screenshot("people-team")

    await page.get_by_role("link", name="← All people and teams").click()
    await expect(page.locator(f"#user-list tr[data-user='{user_id}']")).to_contain_text(email)
    team_row = page.locator("#team-list tr", has_text=f"Platform {suffix}")
    await expect(team_row).to_contain_text(name)
    await admin.screenshot("people-list")


async def test_admin_edits_and_deletes_a_team_and_a_user(admin: Session, server: Server) -> None:
    user = create_user(server, "viewer")
    with api(server) as http:
        team = http.post("/api/v1/teams", json={"name": f"Temp {uuid.uuid4().hex[:6]}"}).json()
    page = admin.page
    accept_confirms(page)
    await page.goto(f"{server.url}/teams/{team['id']}")
    await expect(page.get_by_text("Nobody is in this team yet.")).to_be_visible()
    await page.locator("#edit-team").get_by_label("Members").select_option([user["id"]])
    await page.locator("#edit-team").get_by_role("button", name="Save").click()
    await expect(page.locator("#member-list")).to_contain_text(user["email"])
    await page.get_by_role("button", name=f"Delete team {team['name']}").click()
    await expect(page).to_have_url(f"{server.url}/people")
    await expect(page.locator("body")).not_to_contain_text(team["name"])

    await page.goto(f"{server.url}/people/{user['id']}")
    await page.get_by_role("button", name=f"Delete {user['name']}").click()
    await expect(page).to_have_url(f"{server.url}/people")
    await expect(page.locator(f"tr[data-user='{user['id']}']")).to_have_count(0)


async def test_api_token_is_shown_once_works_and_is_revoked(admin: Session, server: Server) -> None:
    page = admin.page
    accept_confirms(page)
    await page.goto(f"{server.url}/account")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    await page.get_by_label("Token name").fill("deploy script")
    await page.get_by_role("button", name="Create token").click()
    box = page.locator("#new-token-box")
    await expect(box).to_be_visible()
    token = (await box.locator("code[data-field=token]").inner_text()).strip()
    assert token
    await admin.screenshot("people-account-new-token")

    async with httpx.AsyncClient(base_url=server.url) as http:
        me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        assert me.json()["via"] == "api-token"

    await box.get_by_role("link", name="Done").click()
    await expect(box).to_be_hidden()
    await expect(page.locator("body")).not_to_contain_text(token)  # shown only once
    row = page.locator("tr", has_text="deploy script")
    await expect(row).to_contain_text("active")
    await row.get_by_role("button", name="Revoke").click()
    await expect(row).to_contain_text("revoked")
    await expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    await admin.screenshot("people-account")

    async with httpx.AsyncClient(base_url=server.url) as http:
        me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401, me.text


async def test_own_profile_and_calendar_feed(browser: Browser, server: Server) -> None:
    user = create_user(server, "responder")
    session = await open_session(browser, server, user["email"], user["password"])
    page = session.page
    accept_confirms(page)
    await page.get_by_role("link", name=user["name"]).click()  # the name in the navigation
    await expect(page).to_have_url(f"{server.url}/account")
    form = page.locator("#edit-profile")
    await form.get_by_label("Name", exact=True).fill("Rita Responder")
    await form.get_by_label("Time zone").select_option("Asia/Tokyo")
    await form.get_by_role("button", name="Save").click()
    await expect(page.locator(".foot")).to_contain_text("times in Asia/Tokyo")
    await expect(page.locator("dl.facts")).to_contain_text("Rita Responder")

    await page.get_by_role("link", name="Your page").click()
    await expect(page.get_by_role("button", name="Delete Rita Responder")).to_have_count(0)
    await page.get_by_role("button", name="Create a new feed link").click()
    link = page.locator("#feed code[data-field=ical_url]")
    await expect(link).to_contain_text("/api/v1/calendars/users/")
    path = urlsplit(await link.inner_text()).path
    async with httpx.AsyncClient(base_url=server.url) as http:
        feed = await http.get(path)
        assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
    await session.context.close()
    assert session.foreign == []


async def test_viewer_sees_read_only_people_pages(browser: Browser, server: Server) -> None:
    viewer = create_user(server, "viewer")
    session = await open_session(browser, server, viewer["email"], viewer["password"])
    page = session.page
    await page.goto(f"{server.url}/people")
    await expect(page.get_by_text("Only admins add or remove people and teams.")).to_be_visible()
    await expect(page.locator("form[data-api], button[data-api]")).to_have_count(0)
    await page.goto(f"{server.url}/account")
    await expect(page.get_by_text("API tokens need the responder role")).to_be_visible()
    await expect(page.get_by_role("button", name="Create token")).to_have_count(0)
    await expect(page.get_by_role("button", name="Change password")).to_be_visible()
    await session.screenshot("people-account-viewer")
    response = await page.goto(f"{server.url}/people/no-such-user")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    await session.context.close()
    assert session.foreign == []
