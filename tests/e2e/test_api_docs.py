"""The API docs in a real browser: Swagger UI and ReDoc render every operation from
OnCallNova's own assets, under its Content-Security-Policy, with nothing fetched from
another origin (they work offline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.async_api import Browser

from tests.system.servers import Server


class Traffic:
    """What the page asked for: answered requests, failures, CSP reports, errors."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.answered: list[str] = []
        self.failed: list[tuple[str, str]] = []
        self.errors: list[str] = []

    def foreign(self, urls: list[str]) -> list[str]:
        mine: Callable[[str], bool] = lambda u: u.startswith((self.origin + "/", "data:", "blob:"))  # noqa: E731
        return [u for u in urls if not mine(u)]

    def on_response(self, response: Any) -> None:
        self.answered.append(str(response.url))

    def on_failed(self, request: Any) -> None:
        self.failed.append((str(request.url), str(request.failure)))

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(str(message.text))


async def _open(browser: Browser, server: Server, path: str) -> tuple[Any, Traffic]:
    context = await browser.new_context()
    page = await context.new_page()
    traffic = Traffic(server.url)
    context.on("response", traffic.on_response)
    context.on("requestfailed", traffic.on_failed)
    page.on("console", traffic.on_console)
    page.on("pageerror", lambda error: traffic.errors.append(str(error)))
    answer = await page.goto(f"{server.url}{path}")
    assert answer is not None and answer.status == 200
    return page, traffic


async def test_swagger_ui_renders_every_operation_from_this_origin(
    browser: Browser, server: Server
) -> None:
    page, traffic = await _open(browser, server, "/docs")
    operations = page.locator(".opblock")
    await operations.first.wait_for(timeout=15000)
    document = await page.request.get(f"{server.url}/openapi.json")
    paths = (await document.json())["paths"]
    wanted = {(m.upper(), p) for p, item in paths.items() for m in item if m != "parameters"}
    shown = set()
    for block in await operations.all():  # an operation under two tags is shown twice
        method = await block.locator(".opblock-summary-method").inner_text()
        path = await block.locator(".opblock-summary-path").get_attribute("data-path")
        shown.add((method.strip(), path))
    assert shown == wanted
    await page.get_by_text("/api/v1/incidents", exact=True).first.wait_for()
    assert traffic.foreign(traffic.answered) == []
    assert traffic.failed == []
    assert traffic.errors == []  # in particular no CSP violation
    await page.context.close()


async def test_redoc_renders_from_this_origin(browser: Browser, server: Server) -> None:
    page, traffic = await _open(browser, server, "/redoc")
    await page.locator("[data-section-id]").first.wait_for(timeout=15000)
    assert await page.locator("[data-section-id]").count() > 50
    assert await page.get_by_role("heading", name="OnCallNova").count() >= 1
    assert traffic.foreign(traffic.answered) == []
    # ReDoc's side menu always shows Redocly's logo from their CDN: the page's policy
    # stops it in the browser (the menu then leaves the logo out), nothing goes out.
    assert [u for u, why in traffic.failed if why != "csp"] == []
    assert traffic.foreign([u for u, _ in traffic.failed]) in (
        [],
        ["https://cdn.redoc.ly/redoc/logo-mini.svg"],
    )
    assert [e for e in traffic.errors if "cdn.redoc.ly" not in e] == []
    await page.context.close()
