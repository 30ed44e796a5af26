"""Escalation with a fake clock: levels, delays, repeats, ack, manual steps, snapshots.

Pages name their level counting from 1, as the timeline and the incident do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import alert, level, pages, policy, schedule, user
from tests.conftest import new_service


@pytest.fixture
async def setup(client: httpx.AsyncClient, clock: FakeClock) -> dict[str, Any]:
    alice, bob, carol = [await user(client, n) for n in ("Alice", "Bob", "Carol")]
    rota = await schedule(
        client,
        "Primary",
        [
            {
                "name": "weekly",
                "users": [bob],
                "turn": "weekly",
                "handoff": "2026-01-05T09:00:00Z",
            }
        ],
    )
    policy_id = await policy(
        client,
        "Default",
        [level(300, ("user", alice)), level(600, ("schedule", rota["id"]))],
        repeat=1,
    )
    svc = await new_service(client, escalation_policy_id=policy_id)
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "policy": policy_id,
        "schedule": rota["id"],
        "key": svc["key"],
        "service": svc["id"],
    }


async def test_no_ack_walks_levels_with_delays_then_repeats_and_stops(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    incident = await alert(client, setup["key"])
    assert await rt.escalation.run_due(clock.now()) == 1  # level 1 at once
    a, b = setup["alice"], setup["bob"]
    assert await pages(client, incident) == [(a, 1, 0)]
    clock.advance(299)
    assert await rt.escalation.run_due(clock.now()) == 0
    clock.advance(1)
    await rt.escalation.run_due(clock.now())
    assert await pages(client, incident) == [(a, 1, 0), (b, 2, 0)]
    clock.advance(600)
    await rt.escalation.run_due(clock.now())
    clock.advance(300)
    await rt.escalation.run_due(clock.now())
    expected = [(a, 1, 0), (b, 2, 0), (a, 1, 1), (b, 2, 1)]
    assert await pages(client, incident) == expected
    clock.advance(600)
    await rt.escalation.run_due(clock.now())
    clock.advance(10_000)
    assert await rt.escalation.run_due(clock.now()) == 0
    assert await pages(client, incident) == expected
    detail = (await client.get(f"/api/v1/incidents/{incident}")).json()
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds == [
        "triggered",
        "paged",
        "escalated",
        "escalated",
        "escalated",
        "escalation_exhausted",
    ]
    assert detail["next_escalation_at"] is None
    assert detail["escalation_level"] == 2 and detail["escalation_round"] == 1


@pytest.mark.parametrize("ack_after", [0, 299, 301, 1000])
async def test_acknowledge_stops_further_pages(
    client: httpx.AsyncClient,
    rt: Runtime,
    clock: FakeClock,
    setup: dict[str, Any],
    ack_after: int,
) -> None:
    incident = await alert(client, setup["key"])
    await rt.escalation.run_due(clock.now())
    clock.advance(ack_after)
    await rt.escalation.run_due(clock.now())
    before = await pages(client, incident)
    await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    for _ in range(5):
        clock.advance(1000)
        await rt.escalation.run_due(clock.now())
    assert await pages(client, incident) == before
    detail = (await client.get(f"/api/v1/incidents/{incident}")).json()
    assert detail["next_escalation_at"] is None


async def test_resolve_stops_everything(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    incident = await alert(client, setup["key"])
    await client.post(f"/api/v1/incidents/{incident}/resolve")
    clock.advance(5000)
    assert await rt.escalation.run_due(clock.now()) == 0
    assert await pages(client, incident) == []
    refused = await client.post(f"/api/v1/incidents/{incident}/escalate")
    assert refused.status_code == 409


async def test_manual_escalate_pages_next_level_now(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    incident = await alert(client, setup["key"])
    await rt.escalation.run_due(clock.now())
    await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    response = await client.post(
        f"/api/v1/incidents/{incident}/escalate", json={"message": "waking level 2"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "triggered"
    assert response.json()["escalation_level"] == 2
    assert await pages(client, incident) == [(setup["alice"], 1, 0), (setup["bob"], 2, 0)]
    timeline = (await client.get(f"/api/v1/incidents/{incident}")).json()["timeline"]
    assert (timeline[-1]["kind"], timeline[-1]["actor"]) == ("escalated", "Admin")


async def test_reassign_to_user_and_to_policy(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    incident = await alert(client, setup["key"])
    await rt.escalation.run_due(clock.now())
    carol = setup["carol"]
    to_user = await client.post(f"/api/v1/incidents/{incident}/reassign", json={"user_id": carol})
    assert to_user.status_code == 200
    assert (await pages(client, incident))[-1][0] == carol
    other = await policy(client, "Carol only", [level(60, ("user", carol))])
    to_policy = await client.post(
        f"/api/v1/incidents/{incident}/reassign", json={"escalation_policy_id": other}
    )
    assert to_policy.status_code == 200
    assert to_policy.json()["escalation_policy_id"] == other
    assert len([p for p in await pages(client, incident) if p[0] == carol]) == 2
    bad = await client.post(f"/api/v1/incidents/{incident}/reassign", json={"user_id": "nope"})
    assert bad.status_code == 422
    both = await client.post(
        f"/api/v1/incidents/{incident}/reassign",
        json={"user_id": carol, "escalation_policy_id": other},
    )
    assert both.status_code == 422


async def test_editing_the_policy_changes_nothing_for_running_incidents(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    incident = await alert(client, setup["key"])
    await rt.escalation.run_due(clock.now())
    edited = await client.patch(
        f"/api/v1/escalation-policies/{setup['policy']}",
        json={"levels": [level(10, ("user", setup["carol"]))], "repeat": 0},
    )
    assert edited.status_code == 200
    clock.advance(300)
    await rt.escalation.run_due(clock.now())
    assert await pages(client, incident) == [(setup["alice"], 1, 0), (setup["bob"], 2, 0)]
    # a new incident uses the edited policy
    clock.advance(10_000)
    newer = await alert(client, setup["key"], "other")
    await rt.escalation.run_due(clock.now())
    assert await pages(client, newer) == [(setup["carol"], 1, 0)]


async def test_nobody_on_call_is_on_the_timeline_and_the_next_level_is_paged(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    future = await schedule(
        client,
        "Not yet",
        [
            {
                "name": "later",
                "users": [setup["bob"]],
                "turn": "daily",
                "handoff": "2030-01-01T00:00:00Z",
            }
        ],
    )
    policy_id = await policy(
        client,
        "Gap first",
        [
            level(300, ("schedule", future["id"])),
            level(300, ("user", setup["carol"])),
        ],
    )
    svc = await new_service(client, "gappy", escalation_policy_id=policy_id)
    incident = await alert(client, svc["key"])
    await rt.escalation.run_due(clock.now())
    assert await pages(client, incident) == [(setup["carol"], 2, 0)]
    timeline = (await client.get(f"/api/v1/incidents/{incident}")).json()["timeline"]
    gap = [e for e in timeline if e["kind"] == "no_one_on_call"]
    assert len(gap) == 1
    assert "nobody is on call" in gap[0]["message"]


async def test_override_changes_who_is_paged(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    now = clock.now()
    override = await client.post(
        f"/api/v1/schedules/{setup['schedule']}/overrides",
        json={
            "user_id": setup["carol"],
            "start": now.isoformat(),
            "end": (now.replace(hour=23)).isoformat(),
        },
    )
    assert override.status_code == 201
    incident = await alert(client, setup["key"])
    await client.post(f"/api/v1/incidents/{incident}/escalate")
    await client.post(f"/api/v1/incidents/{incident}/escalate")
    assert [p[0] for p in await pages(client, incident)] == [setup["alice"], setup["carol"]]
