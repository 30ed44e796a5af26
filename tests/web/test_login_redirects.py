"""The sign-in page sends the browser on to `next` only when it is a path on this site."""

from __future__ import annotations

import httpx
import pytest

from oncallnova.runtime.container import Runtime
from oncallnova.transport.http.app import create_app
from oncallnova.transport.http.security import local_path
from tests.conftest import ADMIN_PASSWORD, sign_in

OFF_SITE = [
    "/\\evil.example",  # browsers read the backslash as a slash: //evil.example
    "/\\/evil.example",
    "//evil.example",
    "/\t/evil.example",  # browsers drop tabs and newlines from URLs
    "/\n/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_targets_fall_back_to_the_default(target: str) -> None:
    assert local_path(target, "/incidents") == "/incidents"


@pytest.mark.parametrize("target", ["/incidents?status=triggered", "/people/abc", "/a//b"])
def test_paths_on_this_site_pass(target: str) -> None:
    assert local_path(target, "/incidents") == target


async def test_the_login_page_and_its_redirect_stay_on_the_site(rt: Runtime) -> None:
    await sign_in(rt, "ola@example.com", "responder", "Ola")
    app = create_app(rt, manage_runtime=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as browser:
        page = await browser.get("/login?next=/%5Cevil.example")
        assert page.status_code == 200
        assert 'data-then="go:/incidents"' in page.text
        assert "evil.example" not in page.text
        login = await browser.post(
            "/api/v1/auth/login", json={"email": "ola@example.com", "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200
        again = await browser.get("/login?next=/%5Cevil.example")
        assert again.status_code == 303
        assert again.headers["location"] == "/incidents"
        kept = await browser.get("/login?next=/people")
        assert kept.headers["location"] == "/people"
