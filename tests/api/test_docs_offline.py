"""`/docs` and `/redoc` are served whole by OnCallNova: every script, style sheet and
icon they reference is on this origin, is served with its right type, and the pages
carry no inline script (they run under the site's Content-Security-Policy)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from oncallnova.transport.http.app import create_app
from oncallnova.transport.http.security import CSP, DOCS_CSP
from tests.conftest import RuntimeFactory

TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
def backend() -> str:
    """The docs do not depend on the database: SQLite is enough."""
    return "sqlite"


@pytest.fixture
async def http(make_runtime: RuntimeFactory) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(await make_runtime(), manage_runtime=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', html)


@pytest.mark.parametrize(
    ("path", "policy", "bundle"),
    [
        ("/docs", CSP, "swagger-ui-bundle.js"),
        ("/redoc", DOCS_CSP, "redoc.standalone.js"),
        ("/docs/oauth2-redirect", CSP, "oauth2-redirect.js"),
    ],
)
async def test_docs_pages_use_only_their_own_assets(
    http: httpx.AsyncClient, path: str, policy: str, bundle: str
) -> None:
    page = await http.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == policy
    html = page.text
    assert "http:" not in html and "https:" not in html  # no CDN, no other origin
    assert '="//' not in html  # nor a scheme-relative address
    # every script is a file (no inline code) and nothing is styled inline
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html) == []
    assert re.findall(r"<script[^>]*>([^<]+)</script>", html) == []
    assert "<style" not in html and "style=" not in html
    assets = references(html)
    assert any(a.endswith(bundle) for a in assets), assets
    for asset in assets:
        assert asset.startswith("/docs/assets/"), asset
        answer = await http.get(asset)
        assert answer.status_code == 200, asset
        kind = TYPES[asset[asset.rindex(".") :]]
        assert kind in answer.headers["content-type"], (asset, answer.headers["content-type"])
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert len(answer.content) > 0


async def test_the_docs_policies_allow_nothing_from_another_origin() -> None:
    for policy in (CSP, DOCS_CSP):
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert "http" not in policy and "*" not in policy
        assert directives["script-src"] == "'self'"  # no inline script, no eval
        assert directives["default-src"] == "'self'"


async def test_the_openapi_document_the_pages_load_is_served(http: httpx.AsyncClient) -> None:
    page = (await http.get("/docs")).text
    [url] = re.findall(r'data-openapi-url="([^"]+)"', page)
    document = await http.get(url)
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "OnCallNova"
    assert "/docs" not in document.json()["paths"]  # the pages are not API operations
