"""Security headers on every response: JSON, HTML, errors, and other middleware's answers."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from oncallnova.transport.http.app import create_app
from oncallnova.transport.http.security import CSP
from tests.conftest import RuntimeFactory, new_service

COMMON = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


@pytest.fixture
def backend() -> str:
    """Headers do not depend on the database: SQLite is enough."""
    return "sqlite"


@pytest.fixture
async def app(make_runtime: RuntimeFactory) -> FastAPI:
    rt = await make_runtime(MAX_BODY_BYTES="2048", RATE_LIMIT_BURST="5")
    application = create_app(rt, manage_runtime=False)

    @application.get("/api/v1/boom", include_in_schema=False)
    @application.get("/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("a bug")

    return application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # errors are answered by the app (500); the test client must not re-raise them
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def assert_secured(response: httpx.Response, csp: str | None = CSP) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.status_code, name)
    if csp is not None:
        assert response.headers["content-security-policy"] == csp
    assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_json_404_422_413_and_500_answers_carry_the_headers(
    http: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    health = await http.get("/health")
    assert health.status_code == 200
    assert_secured(health)
    missing = await http.get("/no/such/page")
    assert missing.status_code == 404
    assert_secured(missing)
    # BodyLimit middleware answers 413 itself, before any route runs
    too_big = await http.post("/api/v1/alerts", headers={"X-Routing-Key": "k"}, content=b"x" * 4096)
    assert too_big.status_code == 413
    assert_secured(too_big)
    svc = await new_service(client)
    invalid = await http.post(
        "/api/v1/alerts", headers={"X-Routing-Key": svc["key"]}, json={"title": "no severity"}
    )
    assert invalid.status_code == 422
    assert_secured(invalid)
    # the 500 comes from Starlette's outermost ServerErrorMiddleware
    crashed = await http.get("/api/v1/boom")
    assert crashed.status_code == 500
    assert crashed.json()["detail"].startswith("internal error")
    assert_secured(crashed)
    # a page that crashes answers a page that says so, with no stack trace in it
    page = await http.get("/boom")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "could not show this page" in page.text and "RuntimeError" not in page.text
    assert_secured(page)


async def test_429_from_the_rate_limit_carries_the_headers(http: httpx.AsyncClient) -> None:
    # A burst of 5; the bucket refills while the requests run, so a slow machine may
    # need a few more than 6 to see the refusal.
    statuses = []
    for _ in range(30):
        response = await http.get("/nope")
        statuses.append(response.status_code)
        assert_secured(response)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429


async def test_the_strict_policy_forbids_inline_script() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CSP


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_docs_pages_get_a_policy_that_lets_them_run(
    http: httpx.AsyncClient, path: str
) -> None:
    page = await http.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert_secured(page, csp=None)
    directives = dict(
        d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";")
    )
    script_src = directives["script-src"].split()
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    # each inline script of the page is allowed by its hash, and the CDN bundle by origin
    for script in re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
    for src in re.findall(r'<script src="(https://[^/"]+)/', page.text):
        assert src in script_src
    assert directives["frame-ancestors"] == "'none'"
    assert page.headers["content-length"] == str(len(page.content))


async def test_openapi_document_gets_the_strict_policy(http: httpx.AsyncClient) -> None:
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    assert_secured(response)


async def test_hsts_only_over_https(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as https:
        for path in ("/health", "/nope", "/docs"):
            response = await https.get(path)
            hsts = response.headers["strict-transport-security"]
            assert hsts == "max-age=31536000; includeSubDomains"
            assert response.headers["x-frame-options"] == "DENY"
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as plain:
        # a client cannot claim HTTPS through X-Forwarded-Proto without a trusted proxy
        response = await plain.get("/health", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in response.headers


async def test_hsts_behind_a_trusted_tls_proxy(make_runtime: RuntimeFactory) -> None:
    app = create_app(await make_runtime(TRUSTED_PROXIES="127.0.0.1"), manage_runtime=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        proxied = await http.get("/health", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" in proxied.headers
        direct = await http.get("/health")
        assert "strict-transport-security" not in direct.headers
