"""The session cookie is Secure whenever the browser speaks HTTPS, also behind a TLS proxy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oncallnova.transport.http.app import create_app
from tests.conftest import ADMIN_PASSWORD, RuntimeFactory, sign_in


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def session_cookies(
    make_runtime: RuntimeFactory, peer: str, headers: dict[str, str], **env: Any
) -> list[str]:
    rt = await make_runtime(**env)
    await sign_in(rt, "pam@example.com", "responder", "Pam")
    app = create_app(rt, manage_runtime=False)
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        login = await http.post(
            "/api/v1/auth/login",
            json={"email": "pam@example.com", "password": ADMIN_PASSWORD},
            headers=headers,
        )
        assert login.status_code == 200
        out = await http.post("/api/v1/auth/logout", headers=headers)
    cookies = login.headers.get_list("set-cookie") + out.headers.get_list("set-cookie")
    assert len(cookies) == 4  # session and CSRF cookies, set and cleared
    return cookies


async def test_secure_behind_a_trusted_tls_proxy(make_runtime: RuntimeFactory) -> None:
    cookies = await session_cookies(
        make_runtime, "10.0.0.1", {"X-Forwarded-Proto": "https"}, TRUSTED_PROXIES="10.0.0.1"
    )
    assert all("Secure" in c for c in cookies), cookies


async def test_not_secure_when_an_untrusted_client_claims_https(
    make_runtime: RuntimeFactory,
) -> None:
    cookies = await session_cookies(
        make_runtime, "203.0.113.5", {"X-Forwarded-Proto": "https"}, TRUSTED_PROXIES="10.0.0.1"
    )
    assert not any("Secure" in c for c in cookies), cookies


async def test_secure_when_the_public_base_url_is_https(make_runtime: RuntimeFactory) -> None:
    cookies = await session_cookies(
        make_runtime, "127.0.0.1", {}, ONCALLNOVA_BASE_URL="https://oncall.example.com"
    )
    assert all("Secure" in c for c in cookies), cookies
