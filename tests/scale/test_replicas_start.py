"""Replicas of a role start together: each may find no users yet and make the first
admin; one does, the others start anyway."""

from __future__ import annotations

import asyncio

from oncallnova.core.authz import SYSTEM
from tests.conftest import RuntimeFactory


async def test_replicas_starting_together_make_one_admin(make_runtime: RuntimeFactory) -> None:
    replicas = [await make_runtime() for _ in range(3)]
    made = await asyncio.gather(
        *(rt.auth.bootstrap_admin("first@example.com", "a-password-of-twelve") for rt in replicas)
    )
    assert made == [None, None, None]  # no password was generated, nobody failed
    users = await replicas[0].users.list_users(SYSTEM)
    assert [user.email for user in users] == ["first@example.com"]
