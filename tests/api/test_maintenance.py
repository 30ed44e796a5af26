"""Maintenance windows with a fast-forwarded clock: alerts to their services are stored
and shown but page nobody; running escalations stop and resume from level 1 for what is
still open when the window ends; windows start and end by themselves, and recur."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import alert, level, pages, policy, user
from tests.api.test_silences import detail, iso
from tests.conftest import api_client, new_service, sign_in


async def window(
    client: httpx.AsyncClient, service_ids: list[str], **fields: Any
) -> dict[str, Any]:
    body = {"service_ids": service_ids, "description": "database upgrade", **fields}
    response = await client.post("/api/v1/maintenance-windows", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def step(rt: Runtime, clock: FakeClock, seconds: float = 0) -> None:
    """Move the clock, then run the engine's passes as one engine would."""
    clock.advance(seconds)
    await rt.quiet.phases.run_due(clock.now())
    await rt.escalation.run_due(clock.now())


@pytest.fixture
async def setup(client: httpx.AsyncClient) -> dict[str, Any]:
    ann, bob = await user(client, "Ann"), await user(client, "Bob")
    policy_id = await policy(client, "p", [level(300, ("user", ann)), level(300, ("user", bob))])
    db = await new_service(client, "db", escalation_policy_id=policy_id, correlation_key=["title"])
    web = await new_service(
        client, "web", escalation_policy_id=policy_id, correlation_key=["title"]
    )
    return {"ann": ann, "bob": bob, "db": db, "web": web}


async def test_alerts_during_a_window_are_stored_and_shown_but_page_nobody(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    made = await window(client, [setup["db"]["id"]], ends_at=iso(clock, 3600))
    assert made["status"] == "active" and made["service_names"] == ["db"]
    quiet = await alert(client, setup["db"]["key"], "replica lag")
    loud = await alert(client, setup["web"]["key"], "5xx")
    await step(rt, clock)
    await step(rt, clock, 600)
    assert await pages(client, quiet) == []
    assert await pages(client, loud) == [(setup["ann"], 1, 0), (setup["bob"], 2, 0)]
    held = await detail(client, quiet)
    assert held["maintenance_window_id"] == made["id"] and held["status"] == "triggered"
    assert held["timeline"][1]["kind"] == "maintenance"
    assert "database upgrade" in held["timeline"][1]["message"]
    listing = await client.get("/api/v1/incidents", params={"maintenance": "true"})
    assert [i["id"] for i in listing.json()["items"]] == [quiet]
    page = await client.get(f"/incidents/{quiet}")
    assert "in maintenance" in page.text and f"/maintenance/{made['id']}" in page.text


async def test_running_escalation_stops_and_resumes_from_level_1_when_the_window_ends(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    running = await alert(client, setup["db"]["key"], "disk")
    acked = await alert(client, setup["db"]["key"], "cpu")
    resolved = await alert(client, setup["db"]["key"], "mem")
    await step(rt, clock)
    await client.post(f"/api/v1/incidents/{acked}/acknowledge")
    made = await window(client, [setup["db"]["id"]], ends_at=iso(clock, 3600))
    assert (await detail(client, running))["maintenance_window_id"] == made["id"]
    await client.post(f"/api/v1/incidents/{resolved}/resolve")
    await step(rt, clock, 1800)
    assert await pages(client, running) == [(setup["ann"], 1, 0)]  # level 2 never came
    await step(rt, clock, 1800)  # the window ends by itself
    assert await pages(client, running) == [(setup["ann"], 1, 0), (setup["ann"], 1, 0)]
    assert [p[1] for p in await pages(client, acked)] == [1]  # acknowledged: stays so
    assert len(await pages(client, resolved)) == 1
    kinds = [e["kind"] for e in (await detail(client, running))["timeline"]]
    assert kinds[-4:] == ["maintenance", "maintenance", "resumed", "paged"]
    await step(rt, clock, 300)
    assert [p[1] for p in await pages(client, running)] == [1, 1, 2]
    ended = (await client.get(f"/api/v1/maintenance-windows/{made['id']}")).json()
    assert ended["status"] == "ended"
    assert [h["action"] for h in ended["history"]] == ["created", "ended"]


async def test_a_scheduled_window_starts_and_ends_by_itself(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    made = await window(
        client, [setup["db"]["id"]], starts_at=iso(clock, 600), ends_at=iso(clock, 1200)
    )
    assert made["status"] == "scheduled"
    before = await alert(client, setup["db"]["key"], "before")
    await step(rt, clock)
    assert len(await pages(client, before)) == 1
    clock.advance(600)
    # The escalation engine may pass before the window's start is acted on: it checks
    # the windows itself before it pages.
    await rt.escalation.run_due(clock.now())
    assert len(await pages(client, before)) == 1
    assert (await detail(client, before))["maintenance_window_id"] == made["id"]
    assert await rt.quiet.phases.run_due(clock.now()) == 1
    assert await rt.quiet.phases.run_due(clock.now()) == 0
    during = await alert(client, setup["db"]["key"], "during")
    await step(rt, clock, 300)
    assert await pages(client, during) == []
    await step(rt, clock, 300)
    assert await pages(client, during) == [(setup["ann"], 1, 0)]
    assert (await detail(client, during))["maintenance_window_id"] is None


async def test_a_daily_window_comes_back_at_the_same_wall_clock_time(
    rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    clock.set(clock.now().replace(day=28, hour=7))  # summer time starts in Berlin on the 29th
    async with api_client(rt) as client:  # signed in now: a token of the 1st has expired
        made = await window(
            client,
            [setup["db"]["id"]],
            starts_at="2026-03-28T09:00:00+01:00",
            ends_at="2026-03-28T10:00:00+01:00",
            recurrence="daily",
            time_zone="Europe/Berlin",
        )
        await step(rt, clock, 2.5 * 3600)  # past the first occurrence
        again = (await client.get(f"/api/v1/maintenance-windows/{made['id']}")).json()
        assert again["status"] == "scheduled"
        # 09:00 in Berlin again, which is an hour earlier in UTC once summer time began.
        assert (again["starts_at"], again["ends_at"]) == (
            "2026-03-29T07:00:00Z",
            "2026-03-29T08:00:00Z",
        )
        assert [h["action"] for h in again["history"]] == ["created", "ended", "scheduled"]
    clock.set(clock.now().replace(day=29, hour=7, minute=30))
    async with api_client(rt) as client:
        await step(rt, clock)
        quiet = await alert(client, setup["db"]["key"], "nightly")
        await step(rt, clock)
        assert await pages(client, quiet) == []
        await step(rt, clock, 1800)  # 08:00Z: this occurrence ends, the next is scheduled
        assert await pages(client, quiet) == [(setup["ann"], 1, 0)]


async def test_windows_are_refused_naming_the_field_and_keep_a_trail(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    db = setup["db"]["id"]
    for fields, where in (
        ({"service_ids": []}, "service_ids"),
        ({"service_ids": ["nope"]}, "service_ids"),
        ({"ends_at": iso(clock, -5)}, "ends_at"),
        ({"starts_at": iso(clock, 10), "ends_at": iso(clock, 5)}, "ends_at"),
        ({"recurrence": "daily", "ends_at": iso(clock, 86400)}, "ends_at"),
        ({"recurrence": "monthly"}, "recurrence"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"description": ""}, "description"),
    ):
        body = {"service_ids": [db], "ends_at": iso(clock, 60), "description": "x", **fields}
        refused = await client.post("/api/v1/maintenance-windows", json=body)
        assert refused.status_code == 422, (fields, refused.text)
        assert where in refused.text, (where, refused.text)
    made = await window(client, [db], ends_at=iso(clock, 3600))
    clock.advance(60)
    moved = await client.patch(
        f"/api/v1/maintenance-windows/{made['id']}",
        json={"service_ids": [db, setup["web"]["id"]], "reason": "web too"},
    )
    assert moved.status_code == 200, moved.text
    assert sorted(moved.json()["service_names"]) == ["db", "web"]
    assert (await detail(client, await alert(client, setup["web"]["key"])))[
        "maintenance_window_id"
    ] == made["id"]
    ended = await client.delete(
        f"/api/v1/maintenance-windows/{made['id']}", params={"reason": "finished early"}
    )
    assert ended.status_code == 204
    kept = (await client.get(f"/api/v1/maintenance-windows/{made['id']}")).json()
    assert kept["status"] == "ended" and kept["ends_at"] == "2026-03-01T12:01:00Z"
    assert [(h["actor"], h["action"], h["reason"]) for h in kept["history"]] == [
        ("Admin", "created", "database upgrade"),
        ("Admin", "updated", "web too"),
        ("Admin", "ended", "finished early"),
    ]
    assert (
        await client.patch(f"/api/v1/maintenance-windows/{made['id']}", json={"description": "y"})
    ).status_code == 409
    actions = [e["action"] for e in (await client.get("/api/v1/audit")).json()]
    assert actions[:3] == [
        "maintenance_window.ended",
        "maintenance_window.updated",
        "maintenance_window.created",
    ]
    viewer = await sign_in(rt, "v@example.com", "viewer")
    async with api_client(rt, viewer) as looking:
        body = {"service_ids": [db], "ends_at": iso(clock, 60), "description": "x"}
        assert (await looking.post("/api/v1/maintenance-windows", json=body)).status_code == 403
        listed = (
            await looking.get("/api/v1/maintenance-windows", params={"service_id": db})
        ).json()
        assert [w["id"] for w in listed["items"]] == [made["id"]]
