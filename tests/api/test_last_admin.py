"""There is always an admin: the last one can be neither demoted nor deleted."""

from __future__ import annotations

import asyncio

import pytest

from oncallnova.core.authz import SYSTEM
from oncallnova.core.errors import Conflict
from oncallnova.runtime.container import Runtime
from oncallnova.users.schemas import UserPatch
from tests.conftest import api_client, sign_in


async def test_the_only_admin_cannot_demote_themself(rt: Runtime) -> None:
    token = await sign_in(rt, "kim@example.com", "admin", "Kim")
    async with api_client(rt, token) as kim:
        me = (await kim.get("/api/v1/auth/me")).json()
        refused = await kim.patch(f"/api/v1/users/{me['user_id']}", json={"role": "viewer"})
        assert refused.status_code == 409
        assert "only admin" in refused.json()["detail"]
        assert (await kim.get(f"/api/v1/users/{me['user_id']}")).json()["role"] == "admin"
        # with a second admin, either may step down
        other = await kim.post(
            "/api/v1/users", json={"name": "Lee", "email": "lee@example.com", "role": "admin"}
        )
        assert other.status_code == 201
        stepped = await kim.patch(f"/api/v1/users/{me['user_id']}", json={"role": "responder"})
        assert stepped.status_code == 200
    lee = other.json()["id"]
    # Lee is now the only admin: demoting Lee is refused, whoever asks
    with pytest.raises(Conflict, match="only admin"):
        await rt.users.update_user(SYSTEM, lee, UserPatch(role="viewer"))


async def test_the_last_admin_cannot_be_deleted(rt: Runtime) -> None:
    token = await sign_in(rt, "max@example.com", "admin", "Max")
    async with api_client(rt, token) as admin:
        me = (await admin.get("/api/v1/auth/me")).json()
        second = await admin.post(
            "/api/v1/users", json={"name": "Ned", "email": "ned@example.com", "role": "admin"}
        )
        assert (await admin.delete(f"/api/v1/users/{second.json()['id']}")).status_code == 204
    # the command line acts as the system, not as a user: it must not remove the last admin
    with pytest.raises(Conflict, match="only admin"):
        await rt.users.delete_user(SYSTEM, me["user_id"])
    async with api_client(rt, token) as admin:
        assert (await admin.get("/api/v1/auth/me")).status_code == 200


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(rt: Runtime) -> None:
    from oncallnova.users.schemas import UserIn

    first = await rt.users.create_user(SYSTEM, UserIn(name="A", email="a@x.io", role="admin"))
    second = await rt.users.create_user(SYSTEM, UserIn(name="B", email="b@x.io", role="admin"))
    # two pooled connections ready, so that both transactions really run at once
    await asyncio.gather(rt.users.list_users(SYSTEM), rt.users.list_users(SYSTEM))
    outcomes = await asyncio.gather(
        rt.users.update_user(SYSTEM, first.id, UserPatch(role="viewer")),
        rt.users.update_user(SYSTEM, second.id, UserPatch(role="viewer")),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "UserOut"]
    roles = {u.role for u in await rt.users.list_users(SYSTEM)}
    assert "admin" in roles
