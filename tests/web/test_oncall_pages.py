"""On-call, schedule list and schedule pages rendered on the server (no browser), per role.

The clock is fixed at 2026-03-01 12:00 UTC. The schedule below hands off daily at 09:00
UTC between Ada (from 2026-02-28 09:00) and Bob, so Bob is on call now until
2026-03-02 09:00, then Ada.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from oncallnova.oncall.schedule_schemas import ShiftOut
from oncallnova.runtime.container import Runtime
from oncallnova.transport.web.oncall_pages import handoff
from tests.api.oncall_helpers import level, policy, schedule, user
from tests.conftest import api_client, sign_in


async def setup(client: httpx.AsyncClient) -> dict[str, Any]:
    ada = await user(client, "Ada")
    bob = await user(client, "Bob")
    layer = {"name": "Primary", "users": [ada, bob], "turn": "daily"}
    sched = await schedule(client, "Payments primary", [{**layer, "handoff": "2026-02-28T09:00Z"}])
    policy_id = await policy(client, "Payments policy", [level(300, ("schedule", sched["id"]))])
    team = await client.post("/api/v1/teams", json={"name": "Payments", "member_ids": [ada, bob]})
    assert team.status_code == 201, team.text
    body = {"name": "checkout", "escalation_policy_id": policy_id, "team_id": team.json()["id"]}
    service = await client.post("/api/v1/services", json=body)
    assert service.status_code == 201, service.text
    return {"ada": ada, "bob": bob, "schedule": sched, "service": service.json()["id"]}


async def test_empty_states_say_what_to_do(client: httpx.AsyncClient) -> None:
    oncall = await client.get("/oncall")
    assert oncall.status_code == 200
    assert "<h1>On call now</h1>" in oncall.text
    assert (
        "Nobody is on call yet." in oncall.text and 'href="/schedules#new-schedule"' in oncall.text
    )
    listing = await client.get("/schedules")
    assert listing.status_code == 200
    assert "No schedules yet." in listing.text
    assert 'data-api="/api/v1/schedules"' in listing.text  # the admin's create form


async def test_oncall_per_team_service_and_schedule(client: httpx.AsyncClient) -> None:
    data = await setup(client)
    page = await client.get("/oncall")
    assert page.status_code == 200
    html = page.text
    assert '<h3 class="group">Payments</h3>' in html and f'data-service="{data["service"]}"' in html
    service_row = html.split(f'data-service="{data["service"]}"')[1].split("</tr>")[0]
    assert "<strong>Bob</strong>" in service_row and "Payments policy" in service_row
    assert "2026-03-02 09:00 UTC" in service_row and "(in 21h 0m)" in service_row
    assert "Ada" in service_row  # next
    schedule_row = html.split(f'data-schedule="{data["schedule"]["id"]}"')[1].split("</tr>")[0]
    assert "<strong>Bob</strong>" in schedule_row and "Ada" in schedule_row


async def test_schedule_page_for_admin(client: httpx.AsyncClient) -> None:
    data = await setup(client)
    sched = data["schedule"]
    override = {"user_id": data["ada"], "start": "2026-03-01T11:00Z", "end": "2026-03-01T15:00Z"}
    created = await client.post(f"/api/v1/schedules/{sched['id']}/overrides", json=override)
    assert created.status_code == 201, created.text

    page = await client.get(f"/schedules/{sched['id']}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Payments primary</h1>" in html
    now_box = html.split('class="oncall-now"')[1].split("</p>")[0]
    assert "<strong>Ada</strong>" in now_box and "(override)" in now_box
    assert "2026-03-01 15:00 UTC" in html  # hands back to Bob
    assert html.count('<li class="day') == 14
    assert "Sun 01 Mar" in html and "11:00\u201315:00</span> Ada" in html
    assert sched["ical_url"] in html
    assert f'data-api="/api/v1/schedules/{sched["id"]}/ical-token"' in html
    assert f'data-api="/api/v1/schedules/{sched["id"]}/overrides"' in html
    assert f"/overrides/{created.json()['id']}" in html and 'data-method="DELETE"' in html
    assert "active now" in html

    listing = await client.get("/schedules")
    row = listing.text.split(f'data-schedule="{sched["id"]}"')[1].split("</tr>")[0]
    assert "<strong>Ada</strong>" in row and "1 override" in row


async def test_viewer_sees_no_write_controls(client: httpx.AsyncClient, rt: Runtime) -> None:
    data = await setup(client)
    sched_id = data["schedule"]["id"]
    token = await sign_in(rt, "viewer@example.com", "viewer")
    async with api_client(rt, token) as viewer:
        me = (await viewer.get("/api/v1/auth/me")).json()
        paris = await client.patch(
            f"/api/v1/users/{me['user_id']}", json={"time_zone": "Europe/Paris"}
        )
        assert paris.status_code == 200, paris.text
        pages = {
            p: await viewer.get(p) for p in ("/oncall", "/schedules", f"/schedules/{sched_id}")
        }
    for path, page in pages.items():
        assert page.status_code == 200, path
        assert "data-api=" not in page.text.replace('data-api="/api/v1/auth/logout"', ""), path
        assert "data-method=" not in page.text, path
    assert "2026-03-02 10:00 CET" in pages["/oncall"].text  # the viewer's zone
    assert "Responders can add one" in pages[f"/schedules/{sched_id}"].text


async def test_responder_may_add_overrides_only(client: httpx.AsyncClient, rt: Runtime) -> None:
    data = await setup(client)
    sched_id = data["schedule"]["id"]
    token = await sign_in(rt, "responder@example.com", "responder")
    async with api_client(rt, token) as responder:
        page = await responder.get(f"/schedules/{sched_id}")
        listing = await responder.get("/schedules")
    assert f'data-api="/api/v1/schedules/{sched_id}/overrides"' in page.text
    assert "ical-token" not in page.text and "Delete schedule" not in page.text
    assert 'data-api="/api/v1/schedules"' not in listing.text


async def test_unknown_schedule_is_a_404_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/schedules/does-not-exist")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text


def shift(who: str, start: int, end: int) -> ShiftOut:
    day = datetime(2026, 3, 1, tzinfo=UTC)
    return ShiftOut(
        user_id=who,
        user_name=who,
        start=day.replace(hour=start),
        end=day.replace(hour=end),
        source="Primary",
    )


def test_handoff_joins_shifts_of_the_same_person() -> None:
    now, horizon = datetime(2026, 3, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, 23, tzinfo=UTC)
    current, until, nxt = handoff(
        [shift("a", 0, 2), shift("a", 2, 4), shift("b", 6, 8)], now, horizon
    )
    assert current is not None and current.user_id == "a"
    assert until == datetime(2026, 3, 1, 4, tzinfo=UTC)
    assert nxt is not None and nxt.user_id == "b"
    current, until, nxt = handoff([shift("b", 6, 8)], now, horizon)
    assert current is None and until is None and nxt is not None
    current, until, nxt = handoff([shift("a", 0, 23)], now, horizon)
    assert current is not None and until is None and nxt is None  # no change in sight
