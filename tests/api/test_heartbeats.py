"""Heartbeat monitors with a fast-forwarded clock: inactive until the first beat, one
deduplicated alert on expiry that escalates like any other, resolved by the next beat."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import level, pages, policy, user
from tests.api.test_metrics import scrape, value
from tests.conftest import RuntimeFactory, api_client, new_service, sign_in


async def monitor(
    client: httpx.AsyncClient, service_id: str, name: str = "nightly-backup", interval: int = 60
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/heartbeat-monitors",
        json={"service_id": service_id, "name": name, "interval_seconds": interval},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def beat(rt: Runtime, token: str, method: str = "POST") -> httpx.Response:
    """A beat from a job: no credential but the URL's token."""
    async with api_client(rt, token="") as anonymous:
        return await anonymous.request(method, f"/api/v1/heartbeats/{token}")


async def incidents(client: httpx.AsyncClient, service_id: str) -> list[dict[str, Any]]:
    listing = await client.get("/api/v1/incidents", params={"service_id": service_id})
    items: list[dict[str, Any]] = listing.json()["items"]
    return items


@pytest.fixture
async def paged_service(client: httpx.AsyncClient) -> dict[str, Any]:
    ann = await user(client, "Ann")
    svc = await new_service(
        client, escalation_policy_id=await policy(client, "p", [level(300, ("user", ann))])
    )
    return {**svc, "ann": ann}


async def test_monitor_answers_its_beat_url_and_stays_inactive_until_the_first_beat(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, paged_service: dict[str, Any]
) -> None:
    created = await monitor(client, paged_service["id"])
    assert created["state"] == "inactive" and created["last_beat_at"] is None
    assert created["url"] == f"http://127.0.0.1:8080/api/v1/heartbeats/{created['token']}"
    assert len(created["token"]) >= 40
    clock.advance(23 * 3600)  # a day without a beat: it never ran, so nothing fires
    assert await rt.quiet.heartbeats.expire_due(clock.now()) == 0
    assert await incidents(client, paged_service["id"]) == []
    fetched = (await client.get(f"/api/v1/heartbeat-monitors/{created['id']}")).json()
    assert fetched["state"] == "inactive"


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_beat_needs_no_other_credential_and_moves_the_deadline(
    client: httpx.AsyncClient,
    rt: Runtime,
    clock: FakeClock,
    paged_service: dict[str, Any],
    method: str,
) -> None:
    created = await monitor(client, paged_service["id"], interval=120)
    answer = await beat(rt, created["token"], method)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"] == "up" and body["resolved"] is False
    assert body["expires_at"] == "2026-03-01T12:02:00Z"
    assert (await beat(rt, "not-a-token", method)).status_code == 404
    clock.advance(100)
    await beat(rt, created["token"], method)
    fetched = (await client.get(f"/api/v1/heartbeat-monitors/{created['id']}")).json()
    assert fetched["last_beat_at"] == "2026-03-01T12:01:40Z"
    assert fetched["expires_at"] == "2026-03-01T12:03:40Z"


async def test_expiry_opens_one_alert_that_pages_and_the_next_beat_resolves_it(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, paged_service: dict[str, Any]
) -> None:
    created = await monitor(client, paged_service["id"])
    await beat(rt, created["token"])
    clock.advance(59)
    assert await rt.quiet.heartbeats.expire_due(clock.now()) == 0
    clock.advance(1)
    assert await rt.quiet.heartbeats.expire_due(clock.now()) == 1
    for _ in range(3):  # later passes find nothing more: one alert, never two
        clock.advance(60)
        assert await rt.quiet.heartbeats.expire_due(clock.now()) == 0
    [incident] = await incidents(client, paged_service["id"])
    assert incident["title"] == (
        "Heartbeat 'nightly-backup' expired; last beat at 2026-03-01 12:00:00 UTC"
    )
    assert incident["status"] == "triggered" and incident["alert_count"] == 1
    await rt.escalation.run_due(clock.now())
    assert await pages(client, incident["id"]) == [(paged_service["ann"], 1, 0)]
    detail = (await client.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert detail["alerts"][0]["labels"] == {"heartbeat": "nightly-backup"}
    state = (await client.get(f"/api/v1/heartbeat-monitors/{created['id']}")).json()
    assert state["state"] == "expired" and state["expired_at"] == "2026-03-01T12:01:00Z"

    answer = (await beat(rt, created["token"])).json()
    assert answer["resolved"] is True and answer["state"] == "up"
    detail = (await client.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert detail["status"] == "resolved"
    assert [a["status"] for a in detail["alerts"]] == ["resolved"]
    # Beating again, then silent again: a second expiry is a second alert.
    clock.advance(61)
    assert await rt.quiet.heartbeats.expire_due(clock.now()) == 1
    assert len(await incidents(client, paged_service["id"])) == 2


async def test_deleting_an_expired_monitor_resolves_its_alert(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, paged_service: dict[str, Any]
) -> None:
    created = await monitor(client, paged_service["id"])
    await beat(rt, created["token"])
    clock.advance(61)
    await rt.quiet.heartbeats.expire_due(clock.now())
    deleted = await client.delete(f"/api/v1/heartbeat-monitors/{created['id']}")
    assert deleted.status_code == 204
    [incident] = await incidents(client, paged_service["id"])
    assert incident["status"] == "resolved"
    assert (await beat(rt, created["token"])).status_code == 404
    missing = await client.get(f"/api/v1/heartbeat-monitors/{created['id']}")
    assert missing.status_code == 404


async def test_changing_the_interval_moves_the_deadline_of_a_running_monitor(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, paged_service: dict[str, Any]
) -> None:
    created = await monitor(client, paged_service["id"], interval=3600)
    await beat(rt, created["token"])
    changed = await client.patch(
        f"/api/v1/heartbeat-monitors/{created['id']}", json={"interval_seconds": 600}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["expires_at"] == "2026-03-01T12:10:00Z"
    clock.advance(600)
    assert await rt.quiet.heartbeats.expire_due(clock.now()) == 1


async def test_bad_input_and_roles(
    client: httpx.AsyncClient, rt: Runtime, paged_service: dict[str, Any]
) -> None:
    url = "/api/v1/heartbeat-monitors"
    service_id = paged_service["id"]
    for body, field in (
        ({"service_id": service_id, "name": "x", "interval_seconds": 59}, "interval_seconds"),
        (
            {"service_id": service_id, "name": "x", "interval_seconds": 30 * 86400 + 1},
            "interval_seconds",
        ),
        ({"service_id": service_id, "name": " ", "interval_seconds": 60}, "name"),
        ({"service_id": "nope", "name": "x", "interval_seconds": 60}, "service_id"),
    ):
        refused = await client.post(url, json=body)
        assert refused.status_code == 422, refused.text
        assert field in refused.text
    await monitor(client, service_id, "backup")
    twice = await client.post(
        url, json={"service_id": service_id, "name": "backup", "interval_seconds": 60}
    )
    assert twice.status_code == 409
    viewer = await sign_in(rt, "viewer@example.com", "viewer")
    async with api_client(rt, viewer) as looking:
        listed = (await looking.get(url)).json()["items"]
        assert [m["token"] for m in listed] == [None] and listed[0]["url"] is None
    # Beat URLs are shown as integration keys are: to responders of the service's team.
    responder = await sign_in(rt, "responder@example.com", "responder")
    async with api_client(rt, responder) as outsider:
        assert (await outsider.get(url)).json()["items"][0]["token"] is None
    me = (await client.get("/api/v1/users")).json()["items"]
    responder_id = next(u["id"] for u in me if u["email"] == "responder@example.com")
    team = await client.post("/api/v1/teams", json={"name": "ops", "member_ids": [responder_id]})
    await client.patch(f"/api/v1/services/{service_id}", json={"team_id": team.json()["id"]})
    async with api_client(rt, responder) as member:
        assert (await member.get(url)).json()["items"][0]["token"]
        refused = await member.post(
            url, json={"service_id": service_id, "name": "y", "interval_seconds": 60}
        )
        assert refused.status_code == 403  # monitors are admin business
    assert (await client.get(url, params={"service_id": service_id})).json()["items"][0]["token"]


async def test_beats_are_rate_limited_per_token(make_runtime: RuntimeFactory) -> None:
    rt = await make_runtime(RATE_LIMIT_KEY_BURST="2", RATE_LIMIT_KEY_PER_SECOND="0.01")
    async with api_client(rt) as client:
        svc = await new_service(client)
        created = await monitor(client, svc["id"])
    url = f"/api/v1/heartbeats/{created['token']}"
    async with api_client(rt, token="") as job:  # one app: one set of buckets
        statuses = [(await job.post(url)).status_code for _ in range(3)]
        other = await job.get("/api/v1/heartbeats/another-token")
    assert statuses == [200, 200, 429]
    assert other.status_code == 404  # another token has its own bucket


async def test_metrics_show_each_monitor_state_and_last_beat(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, paged_service: dict[str, Any]
) -> None:
    up = await monitor(client, paged_service["id"], "up-job")
    late = await monitor(client, paged_service["id"], "late-job")
    await monitor(client, paged_service["id"], "new-job")
    await beat(rt, late["token"])
    clock.advance(61)
    await beat(rt, up["token"])
    await rt.quiet.heartbeats.expire_due(clock.now())
    samples = await scrape(client)
    assert value(samples, "oncall_heartbeat_monitors", state="inactive") == 1
    assert value(samples, "oncall_heartbeat_monitors", state="up") == 1
    assert value(samples, "oncall_heartbeat_monitors", state="expired") == 1
    assert value(samples, "oncall_heartbeat_expired", service="checkout", monitor="late-job") == 1
    assert value(samples, "oncall_heartbeat_expired", service="checkout", monitor="up-job") == 0
    assert (
        value(
            samples,
            "oncall_heartbeat_last_beat_timestamp_seconds",
            service="checkout",
            monitor="up-job",
        )
        == clock.now().timestamp()
    )
    assert (
        value(
            samples,
            "oncall_heartbeat_last_beat_timestamp_seconds",
            service="checkout",
            monitor="new-job",
        )
        is None
    )
