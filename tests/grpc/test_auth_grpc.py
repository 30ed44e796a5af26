"""`AuthService` over a real gRPC connection: signing in, sessions, API tokens,
passwords and the audit log answer what the in-process use cases answer, fail alike,
and leave no password or token in a log line or an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncallnova.core.authz import SYSTEM
from oncallnova.core.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated
from oncallnova.runtime.container import Runtime
from oncallnova.settings import Settings
from oncallnova.transport.grpc.clients.auth import AuditClient, AuthClient
from tests.conftest import ADMIN_PASSWORD
from tests.grpc.conftest import Stack, same, same_error, serving

IP = "10.0.0.7"


@pytest.fixture(scope="module")
async def auth(stack: Stack) -> AuthClient:
    for who in (stack.responder, stack.viewer):
        await stack.local.auth.set_password(SYSTEM, who.user_id, ADMIN_PASSWORD)
    return AuthClient(stack.channel)


async def test_sign_in_and_sessions(stack: Stack, auth: AuthClient) -> None:
    local = stack.local.auth
    token = await auth.login("Responder@example.com", ADMIN_PASSWORD, IP)
    assert token.token_type == "bearer" and token.csrf_token
    who, csrf = await auth.authenticate(token.access_token, IP)
    same((who, csrf), await local.authenticate(token.access_token, IP))
    assert (who.user_id, who.role, who.ip, who.via) == (
        stack.responder.user_id,
        stack.responder.role,
        IP,
        "jwt",
    )
    assert csrf == token.csrf_token and who.session_id
    await auth.logout(token.access_token)
    await same_error(
        auth.authenticate(token.access_token, IP), local.authenticate(token.access_token, IP)
    )
    await auth.logout("not-a-jwt")  # nothing to end, as in process


async def test_api_tokens(stack: Stack, auth: AuthClient) -> None:
    local, responder = stack.local.auth, stack.responder
    created = await auth.create_api_token(responder, "ci")
    assert created.token.startswith(created.prefix) and created.name == "ci"
    same(
        await auth.authenticate(created.token, None), await local.authenticate(created.token, None)
    )
    for who in (responder, stack.admin, stack.viewer):
        same(await auth.list_api_tokens(who), await local.list_api_tokens(who))
    revoked = await auth.revoke_api_token(responder, created.id)
    same([revoked], [t for t in await local.list_api_tokens(responder) if t.id == created.id])
    assert revoked.revoked_at is not None
    err = await same_error(
        auth.authenticate(created.token, None), local.authenticate(created.token, None)
    )
    assert isinstance(err, Unauthenticated)


async def test_passwords(stack: Stack, auth: AuthClient) -> None:
    local, viewer = stack.local.auth, stack.viewer
    session = await auth.login("viewer@example.com", ADMIN_PASSWORD, None)
    who, _ = await auth.authenticate(session.access_token, None)
    new = "a-new-password-for-the-viewer"
    await auth.set_password(who, viewer.user_id, new)
    # Changing one's own password keeps the session it was changed from.
    assert (await auth.authenticate(session.access_token, None))[0].user_id == viewer.user_id
    assert (await auth.login("viewer@example.com", new, None)).access_token
    await auth.set_password(stack.admin, viewer.user_id, ADMIN_PASSWORD)
    await same_error(
        auth.authenticate(session.access_token, None),
        local.authenticate(session.access_token, None),
    )


async def test_errors_leave_no_secret_behind(
    stack: Stack, auth: AuthClient, caplog: pytest.LogCaptureFixture
) -> None:
    local, admin, viewer = stack.local.auth, stack.admin, stack.viewer
    secret = "correct-horse-battery-staple-0001"
    errors: list[DomainError] = []
    caplog.set_level("DEBUG")
    err = await same_error(
        auth.login("admin@example.com", secret, IP), local.login("admin@example.com", secret, IP)
    )
    assert isinstance(err, Unauthenticated) and err.message == "wrong email or password"
    errors.append(err)
    err = await same_error(auth.authenticate(secret, IP), local.authenticate(secret, IP))
    errors.append(err)
    short = "short-pw"
    err = await same_error(
        auth.set_password(admin, viewer.user_id, short),
        local.set_password(admin, viewer.user_id, short),
    )
    assert isinstance(err, InvalidInput) and err.field == "password"
    errors.append(err)
    err = await same_error(
        auth.set_password(viewer, admin.user_id, secret),
        local.set_password(viewer, admin.user_id, secret),
    )
    assert isinstance(err, Forbidden)
    await same_error(
        auth.set_password(admin, "nope", secret), local.set_password(admin, "nope", secret)
    )
    for said in [*(e.message for e in errors), caplog.text]:
        assert secret not in said and short not in said
    err = await same_error(auth.create_api_token(viewer, "x"), local.create_api_token(viewer, "x"))
    assert isinstance(err, Forbidden)
    err = await same_error(
        auth.revoke_api_token(admin, "nope"), local.revoke_api_token(admin, "nope")
    )
    assert isinstance(err, NotFound)


async def test_audit_log(stack: Stack, auth: AuthClient) -> None:
    audit, local, admin = AuditClient(stack.channel), stack.local.audit, stack.admin
    await auth.create_api_token(admin, "for the log")
    entries = await audit.list(admin)
    same(entries, await local.list(admin))
    assert entries[0].action == "api_token.create" and entries[0].details == {"name": "for the log"}
    older = entries[0].id
    same(await audit.list(admin, 2, older), await local.list(admin, 2, older))
    await same_error(audit.list(stack.responder), local.list(stack.responder))


async def test_bootstrap_admin(stack: Stack, auth: AuthClient, tmp_path: Path) -> None:
    """Nothing to do where users exist; on an empty installation the generated password
    comes back once and signs the admin in."""
    assert await auth.bootstrap_admin(None, None) is None
    settings = Settings(
        DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}", ONCALLNOVA_DATA_DIR=str(tmp_path)
    )
    fresh = Runtime(settings, clock=stack.clock)
    await fresh.start(engine=False)
    try:
        async with serving(fresh) as channel:
            first = AuthClient(channel)
            password = await first.bootstrap_admin("Root@Example.com", None)
            assert password
            assert await first.bootstrap_admin("other@example.com", "whatever-password") is None
            token = await first.login("root@example.com", password, None)
            who, _ = await first.authenticate(token.access_token, None)
            assert (who.email, who.role.name) == ("root@example.com", "admin")
    finally:
        await fresh.stop()
