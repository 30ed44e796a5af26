"""Sign-in sessions: signing out and changing a password end them, in every replica."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from oncallnova.runtime.container import Runtime
from oncallnova.transport.changes import ChangeFeed
from oncallnova.transport.http.app import create_app
from oncallnova.transport.web.live import _events
from tests.conftest import ADMIN_PASSWORD, RuntimeFactory, sign_in

NEW_PASSWORD = "a-brand-new-password"


@asynccontextmanager
async def browser(rt: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(rt, manage_runtime=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        yield http


async def password_token(http: httpx.AsyncClient, email: str, password: str) -> str:
    issued = await http.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_logout_ends_the_cookie_and_the_token_in_every_replica(
    make_runtime: RuntimeFactory,
) -> None:
    first, second = await make_runtime(), await make_runtime()  # two replicas, one database
    await sign_in(first, "dan@example.com", "responder", "Dan")
    async with browser(first) as one, browser(second) as other:
        login = await one.post(
            "/api/v1/auth/login", json={"email": "dan@example.com", "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200
        cookie = one.cookies["oncallnova_session"]
        stolen = {"Cookie": f"oncallnova_session={cookie}"}
        assert (await other.get("/api/v1/auth/me", headers=stolen)).status_code == 200
        assert (await one.post("/api/v1/auth/logout")).status_code == 204
        # a copy of the cookie kept elsewhere no longer works, in the other replica too
        for http in (one, other):
            assert (await http.get("/api/v1/auth/me", headers=stolen)).status_code == 401
            assert (await http.get("/api/v1/auth/me", headers=bearer(cookie))).status_code == 401

        token = await password_token(one, "dan@example.com", ADMIN_PASSWORD)
        assert (await other.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
        assert (await other.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
        refused = await one.get("/api/v1/incidents", headers=bearer(token))
        assert refused.status_code == 401
        assert "session has ended" in refused.json()["detail"]


async def test_password_change_ends_the_other_sessions_but_not_this_one(
    make_runtime: RuntimeFactory,
) -> None:
    first, second = await make_runtime(), await make_runtime()
    await sign_in(first, "eve@example.com", "responder", "Eve")
    async with browser(first) as one, browser(second) as other:
        here = await password_token(one, "eve@example.com", ADMIN_PASSWORD)
        laptop = await password_token(other, "eve@example.com", ADMIN_PASSWORD)
        api_token = (
            await one.post("/api/v1/auth/api-tokens", json={"name": "cron"}, headers=bearer(here))
        ).json()["token"]
        me = (await one.get("/api/v1/auth/me", headers=bearer(here))).json()
        changed = await one.put(
            f"/api/v1/users/{me['user_id']}/password",
            json={"password": NEW_PASSWORD},
            headers=bearer(here),
        )
        assert changed.status_code == 204
        for http in (one, other):
            assert (await http.get("/api/v1/auth/me", headers=bearer(laptop))).status_code == 401
            assert (await http.get("/api/v1/auth/me", headers=bearer(here))).status_code == 200
            # API tokens are separate credentials, revoked on their own
            assert (await http.get("/api/v1/auth/me", headers=bearer(api_token))).status_code == 200
        # the old password no longer signs in; the new one does
        old = await one.post(
            "/api/v1/auth/token", data={"username": "eve@example.com", "password": ADMIN_PASSWORD}
        )
        assert old.status_code == 401
        await password_token(other, "eve@example.com", NEW_PASSWORD)


async def test_an_admin_setting_a_password_ends_every_session_of_that_user(
    make_runtime: RuntimeFactory,
) -> None:
    rt = await make_runtime()
    admin = await sign_in(rt, "root@example.com", "admin", "Root")
    await sign_in(rt, "fay@example.com", "responder", "Fay")
    async with browser(rt) as http:
        fay = await password_token(http, "fay@example.com", ADMIN_PASSWORD)
        me = (await http.get("/api/v1/auth/me", headers=bearer(fay))).json()
        reset = await http.put(
            f"/api/v1/users/{me['user_id']}/password",
            json={"password": NEW_PASSWORD},
            headers=bearer(admin),
        )
        assert reset.status_code == 204
        assert (await http.get("/api/v1/auth/me", headers=bearer(fay))).status_code == 401
        assert (await http.get("/api/v1/auth/me", headers=bearer(admin))).status_code == 200


async def test_signing_out_ends_an_open_live_stream(make_runtime: RuntimeFactory) -> None:
    """The stream is authenticated when it opens and again before each event it sends."""
    rt = await make_runtime()
    await sign_in(rt, "erin@example.com", "viewer", "Erin")
    token = await password_token_direct(rt, "erin@example.com")

    async def signed_in() -> bool:
        try:
            await rt.auth.authenticate(token, None)
        except Exception:
            return False
        return True

    async def marker() -> object:
        return 0

    changes = ChangeFeed(marker, interval=0.05)
    events = _events(changes, signed_in)
    assert await anext(events) == "retry: 2000\n\n"
    pending = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.05)
    changes.notify("incident.new")
    assert "event: change" in await pending

    await rt.auth.logout(token)
    pending = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.05)
    changes.notify("incident.new")
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, 5)


async def password_token_direct(rt: Runtime, email: str) -> str:
    return (await rt.auth.login(email, ADMIN_PASSWORD, None)).access_token
