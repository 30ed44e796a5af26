"""Authentication and authorization across every route of the application."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import httpx
import jwt
import pytest

from oncallnova.auth.secrets import issue_jwt
from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from oncallnova.transport.http.app import create_app
from tests.conftest import ADMIN_PASSWORD, RuntimeFactory, api_client, sign_in

# Open without a user: health, ingestion (integration keys), sign-in/out, calendar feeds
# (the secret token in the URL is the credential) and the API documentation.
PUBLIC = {
    ("GET", "/health"),
    ("POST", "/api/v1/alerts"),
    ("POST", "/api/v1/integrations/alertmanager"),
    ("POST", "/v2/enqueue"),
    # Opsgenie's Alert API and Grafana OnCall's URLs: the integration key authenticates.
    ("POST", "/v2/alerts"),
    ("GET", "/v2/alerts/requests/{request_id}"),
    ("POST", "/v2/alerts/{identifier}/acknowledge"),
    ("POST", "/v2/alerts/{identifier}/close"),
    ("POST", "/v2/alerts/{identifier}/notes"),
    ("POST", "/integrations/v1/{integration_type}/{token}/"),
    ("GET", "/integrations/v1/{integration_type}/{token}/heartbeat/"),
    ("POST", "/integrations/v1/{integration_type}/{token}/heartbeat/"),
    # A heartbeat monitor's beat: its secret token authenticates.
    ("GET", "/api/v1/heartbeats/{token}"),
    ("POST", "/api/v1/heartbeats/{token}"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/calendars/schedules/{token}.ics"),
    ("GET", "/api/v1/calendars/users/{token}.ics"),
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Server-sent event streams never end, and the in-process test transport waits for the
# end of a body: a signed-in reader of these is tested against real servers (tests/e2e).
STREAMS = {("GET", "/api/v1/stream")}


def routes(rt: Runtime) -> list[tuple[str, str, str | None]]:
    """(method, path, declared role) of every API route, read from the app's own OpenAPI
    document, so a route added later cannot escape these tests."""
    return [(method, path, role) for method, path, role, _ in described(rt)]


def described(rt: Runtime) -> list[tuple[str, str, str | None, str | None]]:
    """As `routes`, with the role that may act for another user on the `/users/{user_id}`
    routes a user may call for themself (None elsewhere)."""
    app = create_app(rt, manage_runtime=False)
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            role, other = operation.get("x-required-role"), operation.get("x-self-or-role")
            found.append((method.upper(), path, role, other))
    assert len(found) > 50
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = None if method in ("GET", "DELETE") else {}
    return await client.request(method, concrete(path), json=body, headers=headers or {})


@pytest.fixture
async def unlimited(make_runtime: RuntimeFactory) -> Runtime:
    """A runtime without request rate limits: these tests call every route in a burst,
    which the per-IP limit (burst 50) would answer with 429 on a fast machine."""
    return await make_runtime(RATE_LIMIT_ENABLED="false")


async def test_every_route_needs_a_user_and_declares_its_role(unlimited: Runtime) -> None:
    rt = unlimited
    async with api_client(rt, token="") as anonymous:
        for method, path, role in routes(rt):
            if (method, path) in PUBLIC:
                continue
            assert role in ("viewer", "responder", "admin"), f"{method} {path} declares no role"
            response = await call(anonymous, method, path)
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers.get("www-authenticate") == "Bearer"


async def test_viewers_cannot_write_and_responders_cannot_administer(
    unlimited: Runtime,
) -> None:
    rt = unlimited
    viewer = await sign_in(rt, "viewer@example.com", "viewer")
    responder = await sign_in(rt, "responder@example.com", "responder")
    async with api_client(rt, viewer) as as_viewer, api_client(rt, responder) as as_responder:
        for method, path, role, for_others in described(rt):
            if (method, path) in PUBLIC:
                continue
            if for_others is not None:
                # A viewer may read their own; another user's only with `for_others`.
                response = await call(as_viewer, method, path)
                assert response.status_code == 403, (method, path, response.text)
                continue
            if method in WRITES:
                response = await call(as_viewer, method, path)
                assert response.status_code == 403, (method, path, response.text)
            if role == "admin":
                response = await call(as_responder, method, path)
                assert response.status_code == 403, (method, path, response.text)
                assert "admin" in response.json()["detail"]
            if role == "viewer" and method == "GET" and (method, path) not in STREAMS:
                response = await call(as_viewer, method, path)
                assert response.status_code not in (401, 403), (method, path)


def forged(claims: dict[str, object], header: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}.{part({'sig': 'none'})}"


async def test_bad_tokens_are_refused(rt: Runtime, clock: FakeClock) -> None:
    user_id = await rt.auth.create_user(*await _admin_args(rt), password=ADMIN_PASSWORD)
    secret = rt.auth._secret
    now = clock.now()
    good = (await rt.auth.issue(user_id)).access_token
    claims = jwt.decode(good, options={"verify_signature": False})
    sid = claims["sid"]
    expired = issue_jwt(secret, user_id, now - timedelta(hours=2), timedelta(hours=1), "c", sid)
    # a token of the right secret that names no sign-in session (or an unknown one)
    no_session = jwt.encode({**claims, "sid": None}, secret, algorithm="HS256")
    unknown_session = jwt.encode({**claims, "sid": "not-a-session"}, secret, algorithm="HS256")
    head, body, sig = good.split(".")
    tampered_claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    tampered_claims["sub"] = "someone-else"
    new_body = base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).rstrip(b"=")
    tampered = f"{head}.{new_body.decode()}.{sig}"
    none_alg = forged(claims, {"alg": "none", "typ": "JWT"}).rsplit(".", 1)[0] + "."
    rs256 = forged(claims, {"alg": "RS256", "typ": "JWT"})
    other_secret = issue_jwt("x" * 40, user_id, now, timedelta(hours=1), "c", sid)
    created = await rt.auth.create_api_token((await rt.auth.authenticate(good, None))[0], "script")
    async with api_client(rt, token="") as c:
        ok = await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {good}"})
        assert ok.status_code == 200
        api = await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {created.token}"})
        assert api.status_code == 200 and api.json()["via"] == "api-token"
        await rt.auth.revoke_api_token((await rt.auth.authenticate(good, None))[0], created.id)
        for name, token in [
            ("expired", expired),
            ("tampered", tampered),
            ("none", none_alg),
            ("RS256", rs256),
            ("other secret", other_secret),
            ("no session", no_session),
            ("unknown session", unknown_session),
            ("revoked API token", created.token),
            ("garbage", "abc"),
            ("unknown API token", "ocn_" + "x" * 43),
        ]:
            response = await c.get(
                "/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 401, name
        basic = await c.get("/api/v1/incidents", headers={"Authorization": "Basic YTpi"})
        assert basic.status_code == 401


async def _admin_args(rt: Runtime) -> tuple[object, object]:
    from oncallnova.core.authz import SYSTEM
    from oncallnova.users.schemas import UserIn

    return SYSTEM, UserIn(name="Root", email="root@example.com", role="admin")


async def test_password_sign_in_and_api_tokens(rt: Runtime) -> None:
    await sign_in(rt, "ann@example.com", "responder", "Ann")
    async with api_client(rt, token="") as c:
        form = {"username": "ann@example.com", "password": ADMIN_PASSWORD}
        issued = await c.post("/api/v1/auth/token", data=form)
        assert issued.status_code == 200
        body = issued.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 24 * 3600
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        me = (await c.get("/api/v1/auth/me", headers=headers)).json()
        assert (me["email"], me["role"]) == ("ann@example.com", "responder")
        wrong = await c.post(
            "/api/v1/auth/token", data={"username": "ann@example.com", "password": "nope"}
        )
        assert wrong.status_code == 401
        token = (
            await c.post("/api/v1/auth/api-tokens", json={"name": "cron"}, headers=headers)
        ).json()
        assert token["token"].startswith("ocn_")
        listed = (await c.get("/api/v1/auth/api-tokens", headers=headers)).json()
        assert [t["name"] for t in listed] == ["cron"]
        assert "token" not in listed[0]
        scripted = {"Authorization": f"Bearer {token['token']}"}
        assert (await c.get("/api/v1/incidents", headers=scripted)).status_code == 200
        used = (await c.get("/api/v1/auth/api-tokens", headers=headers)).json()
        assert used[0]["last_used_at"] is not None
        # scoped to the user's role: a responder's token cannot administer
        assert (
            await c.post("/api/v1/services", json={"name": "x"}, headers=scripted)
        ).status_code == 403


async def test_login_rate_limit(rt: Runtime) -> None:
    await sign_in(rt, "bob@example.com", "responder", "Bob")
    async with api_client(rt, token="") as c:
        for _ in range(5):
            failed = await c.post(
                "/api/v1/auth/login", json={"email": "bob@example.com", "password": "wrong-wrong"}
            )
            assert failed.status_code == 401
        locked = await c.post(
            "/api/v1/auth/login", json={"email": "bob@example.com", "password": ADMIN_PASSWORD}
        )
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) > 0


async def test_cookie_session_csrf_and_logout(rt: Runtime) -> None:
    await sign_in(rt, "cat@example.com", "admin", "Cat")
    app = create_app(rt, manage_runtime=False)
    for base, secure in (("http://test", False), ("https://test", True)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as c:
            login = await c.post(
                "/api/v1/auth/login", json={"email": "cat@example.com", "password": ADMIN_PASSWORD}
            )
            assert login.status_code == 200
            cookies = login.headers.get_list("set-cookie")
            session = next(h for h in cookies if h.startswith("oncallnova_session="))
            assert "HttpOnly" in session and "SameSite=lax" in session
            assert ("Secure" in session) is secure
            csrf = login.json()["csrf_token"]
            assert (await c.get("/api/v1/incidents")).status_code == 200
            refused = await c.post("/api/v1/services", json={"name": f"s-{secure}"})
            assert refused.status_code == 403
            assert "CSRF" in refused.json()["detail"]
            forged_csrf = await c.post(
                "/api/v1/services", json={"name": f"s-{secure}"}, headers={"X-CSRF-Token": "guess"}
            )
            assert forged_csrf.status_code == 403
            created = await c.post(
                "/api/v1/services", json={"name": f"s-{secure}"}, headers={"X-CSRF-Token": csrf}
            )
            assert created.status_code == 201
            out = await c.post("/api/v1/auth/logout")
            assert out.status_code == 204
            cleared = [
                h for h in out.headers.get_list("set-cookie") if h.startswith("oncallnova_session=")
            ]
            assert cleared and ("Max-Age=0" in cleared[0] or "expires=" in cleared[0].lower())
            assert (await c.get("/api/v1/incidents")).status_code == 401


async def test_audit_log_records_admin_changes(rt: Runtime) -> None:
    async with api_client(rt) as admin:
        svc = (await admin.post("/api/v1/services", json={"name": "audited"})).json()
        await admin.patch(f"/api/v1/services/{svc['id']}", json={"description": "d"})
        entries = (await admin.get("/api/v1/audit")).json()
        actions = [(e["action"], e["target_id"]) for e in entries[:2]]
        assert actions == [("service.update", svc["id"]), ("service.create", svc["id"])]
        assert entries[0]["ip"] == "127.0.0.1"
        assert entries[0]["actor"].startswith("admin-")
    responder = await sign_in(rt, "r@example.com", "responder")
    async with api_client(rt, responder) as c:
        assert (await c.get("/api/v1/audit")).status_code == 403


@pytest.mark.parametrize("secret", ["short", "x" * 31])
def test_short_jwt_secret_is_refused(secret: str, tmp_path: object) -> None:
    from oncallnova.auth.secrets import load_or_create_secret

    with pytest.raises(ValueError, match="at least 32 bytes"):
        load_or_create_secret(secret, tmp_path)  # type: ignore[arg-type]
