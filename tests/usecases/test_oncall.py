"""Who is on call per service, asked of the on-call use case directly (no HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import event

from oncallnova.core.authz import SYSTEM, Principal, Role
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.services import Services
from tests.api.oncall_helpers import level, policy, schedule, user
from tests.conftest import new_service

VIEWER = Principal(user_id="v", name="Viewer", email="v@example.com", role=Role.viewer)


@contextmanager
def statements(rt: Runtime) -> Iterator[list[str]]:
    """The SQL statements run meanwhile on the runtime's engines."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    engines = {rt.db.engine.sync_engine, rt.db.write_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def _setup(client: httpx.AsyncClient) -> tuple[str, str, str]:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    rota = await schedule(
        client,
        "Primary",
        [{"name": "l", "users": [ann], "turn": "weekly", "handoff": "2026-01-05T00:00:00Z"}],
    )
    policy_id = await policy(client, "p", [level(60, ("schedule", rota["id"]), ("user", ben))])
    return policy_id, rota["id"], ann


async def test_services_on_call_are_typed_and_in_catalogue_order(
    uc: Services, rt: Runtime, client: httpx.AsyncClient
) -> None:
    policy_id, schedule_id, _ = await _setup(client)
    team = (await client.post("/api/v1/teams", json={"name": "Payments"})).json()
    await new_service(client, "shop", escalation_policy_id=policy_id, team_id=team["id"])
    await new_service(client, "lonely")

    rows = await uc.oncall.services_on_call(VIEWER)

    by_name = {r.name: r for r in rows}
    assert [r.name for r in rows] == sorted(by_name)
    shop = by_name["shop"]
    assert (shop.policy_id, shop.policy_name, shop.team_id) == (policy_id, "p", team["id"])
    assert shop.schedule_ids == (schedule_id,)
    assert shop.user_names == ("Ann", "Ben")
    lonely = by_name["lonely"]
    assert (lonely.policy_id, lonely.user_ids, lonely.schedule_ids) == (None, (), ())
    now = await uc.oncall.now(VIEWER)
    assert {s.name: s.user_names for s in now.services} == {
        "shop": ["Ann", "Ben"],
        "lonely": [],
    }


async def test_services_on_call_costs_the_same_queries_for_one_service_or_many(
    rt: Runtime, client: httpx.AsyncClient
) -> None:
    policy_id, _, _ = await _setup(client)
    await new_service(client, "s0", escalation_policy_id=policy_id)
    with statements(rt) as one:
        await rt.oncall.services_on_call(SYSTEM)
    for n in range(1, 6):
        other = await policy(client, f"p{n}", [level(60, ("user", await user(client, f"U{n}")))])
        await new_service(client, f"s{n}", escalation_policy_id=other)
    with statements(rt) as many:
        rows = await rt.oncall.services_on_call(SYSTEM)
    assert len(rows) == 6
    assert len(many) == len(one), many


async def test_who_is_on_call_at_an_instant(
    uc: Services, rt: Runtime, client: httpx.AsyncClient
) -> None:
    policy_id, schedule_id, ann = await _setup(client)
    await new_service(client, "shop", escalation_policy_id=policy_id)
    before = datetime(2026, 1, 1, tzinfo=UTC)  # before the rotation's first handoff

    later = await uc.oncall.now(VIEWER, before)
    now = await uc.oncall.now(VIEWER)

    assert later.at == before
    assert [e.user_ids for e in later.schedules if e.id == schedule_id] == [[]]
    assert [e.user_ids for e in now.schedules if e.id == schedule_id] == [[ann]]
    rows = await uc.schedules.now_per_schedule(VIEWER, before)
    assert [r.user_ids for r in rows if r.id == schedule_id] == [[]]
