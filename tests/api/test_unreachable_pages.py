"""A page never silently vanishes: deleting what a page depends on is refused, a target
that cannot be reached is on the timeline and the next level is paged at once, and an
incident that pages nobody says so and is counted in /metrics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from oncallnova.users.models import User
from tests.api.oncall_helpers import alert, level, pages, policy, schedule, user
from tests.api.test_metrics import scrape, value
from tests.conftest import new_service

WEEKLY = {"name": "weekly", "turn": "weekly", "handoff": "2026-01-05T09:00:00Z"}


async def timeline(client: httpx.AsyncClient, incident_id: str) -> list[dict[str, Any]]:
    detail = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    entries: list[dict[str, Any]] = detail["timeline"]
    return entries


@pytest.fixture
async def people(client: httpx.AsyncClient) -> dict[str, str]:
    return {n: await user(client, n) for n in ("Alice", "Bob", "Carol")}


async def test_deleting_a_user_in_a_rotation_or_a_policy_is_refused_naming_where(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    alice = people["Alice"]
    rota = await schedule(client, "Primary", [{**WEEKLY, "users": [people["Bob"], alice]}])
    policy_id = await policy(
        client, "Default", [level(60, ("user", people["Carol"])), level(60, ("user", alice))]
    )

    refused = await client.delete(f"/api/v1/users/{alice}")
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert "schedule 'Primary' (layer 'weekly')" in detail
    assert "escalation policy 'Default' (level 2)" in detail
    assert (await client.get(f"/api/v1/users/{alice}")).status_code == 200  # nothing deleted

    # Once she is out of the rotation and the policy, she can go.
    edited = await client.patch(
        f"/api/v1/schedules/{rota['id']}", json={"layers": [{**WEEKLY, "users": [people["Bob"]]}]}
    )
    assert edited.status_code == 200, edited.text
    edited = await client.patch(
        f"/api/v1/escalation-policies/{policy_id}",
        json={"levels": [level(60, ("user", people["Carol"]))]},
    )
    assert edited.status_code == 200, edited.text
    assert (await client.delete(f"/api/v1/users/{alice}")).status_code == 204


async def test_deleting_a_policy_that_services_use_is_refused_naming_them(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    policy_id = await policy(client, "Default", [level(60, ("user", people["Alice"]))])
    checkout = await new_service(client, "checkout", escalation_policy_id=policy_id)
    await new_service(client, "payments", escalation_policy_id=policy_id)

    refused = await client.delete(f"/api/v1/escalation-policies/{policy_id}")
    assert refused.status_code == 409, refused.text
    assert "service 'checkout'; service 'payments'" in refused.json()["detail"]
    service = (await client.get(f"/api/v1/services/{checkout['id']}")).json()
    assert service["escalation_policy_id"] == policy_id  # still attached, still pages

    for svc in (await client.get("/api/v1/services")).json()["items"]:
        detached = await client.patch(
            f"/api/v1/services/{svc['id']}", json={"escalation_policy_id": None}
        )
        assert detached.status_code == 200, detached.text
    assert (await client.delete(f"/api/v1/escalation-policies/{policy_id}")).status_code == 204


async def test_a_user_without_contact_method_is_on_the_timeline_and_the_next_level_paged_now(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, people: dict[str, str]
) -> None:
    alice, bob = people["Alice"], people["Bob"]
    cleared = await client.patch(f"/api/v1/users/{alice}", json={"contact_methods": []})
    assert cleared.status_code == 200, cleared.text
    policy_id = await policy(
        client, "Default", [level(300, ("user", alice)), level(300, ("user", bob))]
    )
    svc = await new_service(client, escalation_policy_id=policy_id)
    incident = await alert(client, svc["key"])

    await rt.escalation.run_due(clock.now())  # no waiting for level 1's 300 s
    assert await pages(client, incident) == [(bob, 2, 0)]
    entries = await timeline(client, incident)
    assert any(
        e["kind"] == "unreachable" and e["message"] == "level 1: Alice has no contact method"
        for e in entries
    ), entries
    assert not [e for e in entries if e["kind"] == "unpaged"]

    # Reassigning to her by hand is refused rather than paging nowhere.
    refused = await client.post(f"/api/v1/incidents/{incident}/reassign", json={"user_id": alice})
    assert refused.status_code == 422, refused.text
    assert "Alice has no contact method" in refused.json()["detail"]


async def test_a_deleted_user_still_in_a_rotation_is_skipped_and_the_next_level_paged_now(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, people: dict[str, str]
) -> None:
    """Rotations that still name a user deleted before deleting was refused: the slot is
    a gap on the timeline, not a page that fails in the email channel."""
    ghost, carol = people["Alice"], people["Carol"]
    rota = await schedule(client, "Primary", [{**WEEKLY, "users": [ghost]}])
    policy_id = await policy(
        client, "Default", [level(300, ("schedule", rota["id"])), level(300, ("user", carol))]
    )
    svc = await new_service(client, escalation_policy_id=policy_id)
    async with rt.db.write() as session:
        await session.execute(delete(User).where(User.id == ghost))

    incident = await alert(client, svc["key"])
    await rt.escalation.run_due(clock.now())
    assert await pages(client, incident) == [(carol, 2, 0)]
    messages = [e["message"] for e in await timeline(client, incident)]
    assert f"level 1: user {ghost} (on call in schedule 'Primary') no longer exists" in messages
    assert "level 1 reached nobody: paging the next level now" in messages


async def test_an_incident_that_pages_nobody_says_so_and_is_counted(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, people: dict[str, str]
) -> None:
    empty = await schedule(
        client, "Later", [{**WEEKLY, "users": [people["Bob"]], "handoff": "2030-01-07T09:00:00Z"}]
    )
    await client.patch(f"/api/v1/users/{people['Alice']}", json={"contact_methods": []})
    policy_id = await policy(
        client,
        "Nobody home",
        [level(300, ("schedule", empty["id"])), level(300, ("user", people["Alice"]))],
        repeat=2,
    )
    unreachable = await new_service(client, "checkout", escalation_policy_id=policy_id)
    no_policy = await new_service(client, "payments")
    before = await scrape(client)
    assert value(before, "oncall_incidents_unpaged_total", reason="nobody_reachable") == 0

    first = await alert(client, unreachable["key"])
    second = await alert(client, no_policy["key"])
    await rt.escalation.run_due(clock.now())

    unpaged = [e for e in await timeline(client, first) if e["kind"] == "unpaged"]
    assert [e["message"] for e in unpaged] == [
        "Paged nobody: no level of 'Nobody home' reached anyone"
    ]
    assert unpaged[0]["data"] == {"reason": "nobody_reachable"}
    unpaged = [e for e in await timeline(client, second) if e["kind"] == "unpaged"]
    assert [e["message"] for e in unpaged] == ["Paged nobody: the service has no escalation policy"]
    for incident in (first, second):
        detail = (await client.get(f"/api/v1/incidents/{incident}")).json()
        assert detail["pages"] == [] and detail["next_escalation_at"] is None
        page = await client.get(f"/incidents/{incident}")
        assert page.status_code == 200 and "Paged nobody" in page.text

    # One pass of gaps, not one per repeat, and nothing more later.
    gaps = [e for e in await timeline(client, first) if e["kind"] == "no_one_on_call"]
    assert len(gaps) == 1
    clock.advance(10_000)
    assert await rt.escalation.run_due(clock.now()) == 0
    after = await scrape(client)
    assert value(after, "oncall_incidents_unpaged_total", reason="nobody_reachable") == 1
    assert value(after, "oncall_incidents_unpaged_total", reason="no_policy") == 1


async def test_the_paged_nobody_banner_goes_once_someone_is_paged_by_hand(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, people: dict[str, str]
) -> None:
    svc = await new_service(client, "payments")  # no escalation policy
    incident = await alert(client, svc["key"])
    await rt.escalation.run_due(clock.now())
    page = (await client.get(f"/incidents/{incident}")).text
    assert "data-unpaged" in page and "Next escalation</dt><dd>none" in page
    reassigned = await client.post(
        f"/api/v1/incidents/{incident}/reassign", json={"user_id": people["Bob"]}
    )
    assert reassigned.status_code == 200, reassigned.text
    page = (await client.get(f"/incidents/{incident}")).text
    assert "data-unpaged" not in page and "Bob — level 1" in page


async def test_deleting_a_schedule_that_a_policy_pages_is_refused_naming_it(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    rota = await schedule(client, "Primary", [{**WEEKLY, "users": [people["Bob"]]}])
    policy_id = await policy(
        client,
        "Default",
        [level(60, ("user", people["Carol"])), level(60, ("schedule", rota["id"]))],
    )

    refused = await client.delete(f"/api/v1/schedules/{rota['id']}")
    assert refused.status_code == 409, refused.text
    assert (
        "schedule 'Primary' is still used by escalation policy 'Default' (level 2)"
        in (refused.json()["detail"])
    )
    assert (await client.get(f"/api/v1/schedules/{rota['id']}")).status_code == 200

    edited = await client.patch(
        f"/api/v1/escalation-policies/{policy_id}",
        json={"levels": [level(60, ("user", people["Carol"]))]},
    )
    assert edited.status_code == 200, edited.text
    assert (await client.delete(f"/api/v1/schedules/{rota['id']}")).status_code == 204
