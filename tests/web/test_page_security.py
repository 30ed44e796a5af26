"""Every page: security headers, no inline script or style, assets from this origin."""

from __future__ import annotations

import re

import httpx

from oncallnova.runtime.container import Runtime
from tests.conftest import api_client

PAGES = [
    "/incidents",
    "/oncall",
    "/schedules",
    "/services",
    "/escalation-policies",
    "/people",
    "/webhooks",
    "/account",
    "/analytics",
]


def assert_safe_html(response: httpx.Response) -> None:
    assert response.status_code == 200, (response.url, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(' src="/static/' in tag for tag in scripts), scripts
    assert "<style" not in html and " style=" not in html and " onclick=" not in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http://", "https://", "//")), (response.url, url)


async def test_every_page_is_served_safely(rt: Runtime, client: httpx.AsyncClient) -> None:
    for path in PAGES:
        assert_safe_html(await client.get(path))
    async with api_client(rt, token="") as anonymous:
        assert_safe_html(await anonymous.get("/login"))
        redirected = await anonymous.get("/incidents")
        assert redirected.status_code == 303
        assert redirected.headers["location"] == "/login?next=%2Fincidents"
        static = await anonymous.get("/static/app.js")
        assert static.status_code == 200 and "javascript" in static.headers["content-type"]
