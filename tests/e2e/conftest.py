"""Browser tests: Playwright drives the system Chromium against a real server process.

One server (SQLite, the all-in-one) serves the whole module; each test signs in in its
own browser context. Every request a page makes is checked to stay on the server's
origin. Screenshots of each page, at desktop and phone width, go to
`tests/e2e/screenshots/` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import need_service
from tests.system.servers import ADMIN_EMAIL, ADMIN_PASSWORD, Server

SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str:
    for path in (os.environ.get("CHROMIUM_PATH", ""), *CHROMIUM_PATHS):
        if path and Path(path).exists():
            return path
    found = shutil.which("chromium")
    if found:
        return found
    need_service("Chromium", FileNotFoundError("apt-get install -y chromium (make test does it)"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("e2e")
    env = {
        "ONCALLNOVA_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'oncallnova.db'}",
        "RATE_LIMIT_ENABLED": "false",
        "ENGINE_INTERVAL_SECONDS": "0.2",
    }
    srv = Server(env, data / "server.log")
    srv.env["ONCALLNOVA_BASE_URL"] = srv.url  # links the pages show point at this server
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield launched
        await launched.close()


class Session:
    """A signed-in browser context and its page, with the origin check."""

    def __init__(self, context: BrowserContext, page: Page, origin: str) -> None:
        self.context = context
        self.page = page
        self.origin = origin
        self.foreign: list[str] = []
        context.on("request", self._check)

    def _check(self, request: Any) -> None:
        url = str(request.url)
        if not (url.startswith(self.origin + "/") or url.startswith(("data:", "blob:"))):
            self.foreign.append(url)

    async def screenshot(self, name: str) -> None:
        """Full-page screenshots of the current page at desktop and phone width."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            await self.page.set_viewport_size(size)
            await self.page.wait_for_timeout(150)
            await self.page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
        await self.page.set_viewport_size(DESKTOP)


async def open_session(
    browser: Browser, server: Server, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> Session:
    context = await browser.new_context(viewport=DESKTOP, timezone_id="UTC")
    page = await context.new_page()
    session = Session(context, page, server.url)
    OPENED.append(session)
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{server.url}/incidents")
    return session


OPENED: list[Session] = []


@pytest.fixture(autouse=True)
def same_origin_only() -> Iterator[None]:
    """Every page of every test stays on the server's own origin: no CDN, no fonts, no
    beacons (checked on every request any signed-in browser context made)."""
    OPENED.clear()
    yield
    foreign = [url for session in OPENED for url in session.foreign]
    assert foreign == [], f"requests left the server's origin: {foreign}"


@pytest.fixture
async def admin(browser: Browser, server: Server) -> AsyncIterator[Session]:
    session = await open_session(browser, server)
    yield session
    await session.context.close()
    assert session.foreign == [], f"requests left the server's origin: {session.foreign}"


def api(server: Server) -> httpx.Client:
    """The admin's API client on the test server (for setting up data)."""
    return httpx.Client(base_url=server.url, headers=server.headers, timeout=10)


def create_user(server: Server, role: str, time_zone: str = "UTC") -> dict[str, Any]:
    """A user with `role` and a password; returns the user with `password` added."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.com"
    with api(server) as http:
        body = {"name": f"{role.title()} {email[:10]}", "email": email, "role": role}
        user = http.post("/api/v1/users", json={**body, "time_zone": time_zone})
        assert user.status_code == 201, user.text
        created: dict[str, Any] = user.json()
        password = "a-password-for-" + uuid.uuid4().hex[:8]
        done = http.put(f"/api/v1/users/{created['id']}/password", json={"password": password})
        assert done.status_code == 204, done.text
    return {**created, "password": password}
