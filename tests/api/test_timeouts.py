"""A service's acknowledgement timeout and auto-resolve, with a fast-forwarded clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import alert, level, pages, policy, user
from tests.api.test_silences import detail
from tests.conftest import new_service
from tests.support.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
async def setup(client: httpx.AsyncClient) -> dict[str, Any]:
    ann, bob = await user(client, "Ann"), await user(client, "Bob")
    policy_id = await policy(client, "p", [level(300, ("user", ann)), level(300, ("user", bob))])
    svc = await new_service(
        client,
        escalation_policy_id=policy_id,
        correlation_key=["title"],
        ack_timeout_seconds=1800,
        auto_resolve_seconds=4 * 3600,
    )
    assert svc["ack_timeout_seconds"] == 1800 and svc["auto_resolve_seconds"] == 14400
    return {"ann": ann, "bob": bob, "svc": svc}


async def test_an_acknowledged_incident_not_resolved_in_time_pages_again_from_level_1(
    client: httpx.AsyncClient,
    rt: Runtime,
    clock: FakeClock,
    setup: dict[str, Any],
    receiver: Receiver,
) -> None:
    hook = await client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "events": ["incident.acknowledged", "incident.unacknowledged"]},
    )
    assert hook.status_code == 201, hook.text
    incident = await alert(client, setup["svc"]["key"])
    await rt.escalation.run_due(clock.now())
    clock.advance(400)
    await rt.escalation.run_due(clock.now())  # level 2 (Bob) paged
    await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    clock.advance(1799)
    assert await rt.quiet.timeouts.run_due(clock.now()) == 0
    clock.advance(1)
    assert await rt.quiet.timeouts.has_due(clock.now())
    assert await rt.quiet.timeouts.run_due(clock.now()) == 1
    assert await rt.quiet.timeouts.run_due(clock.now()) == 0  # once
    found = await detail(client, incident)
    assert found["status"] == "triggered"
    last = found["timeline"][-1]
    assert last["kind"] == "ack_timeout"
    assert last["message"].startswith("Acknowledgement timed out after 30 minutes")
    # Webhook subscribers hear of it, the incident as it stands now.
    await rt.dispatcher.run_once(clock.now())
    told = [json.loads(r.body)["event"] for r in receiver.requests]
    assert [e["event_type"] for e in told] == ["incident.acknowledged", "incident.unacknowledged"]
    assert told[1]["data"]["status"] == "triggered" and told[1]["data"]["id"] == incident
    await rt.escalation.run_due(clock.now())
    ann, bob = setup["ann"], setup["bob"]
    assert await pages(client, incident) == [(ann, 1, 0), (bob, 2, 0), (ann, 1, 0)]
    # Acknowledged again: the timeout counts from the new acknowledgement.
    await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    clock.advance(1000)
    assert await rt.quiet.timeouts.run_due(clock.now()) == 0
    await client.post(f"/api/v1/incidents/{incident}/resolve")
    clock.advance(5000)
    assert await rt.quiet.timeouts.run_due(clock.now()) == 0
    assert (await detail(client, incident))["status"] == "resolved"


async def test_an_incident_without_new_alerts_resolves_itself(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    await client.patch(
        f"/api/v1/services/{setup['svc']['id']}",
        json={"ack_timeout_seconds": None, "correlation_window_seconds": 86400},
    )
    key = setup["svc"]["key"]
    incident = await alert(client, key, "flapping")
    await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    clock.advance(3 * 3600)
    # Another alert on the same incident (a new fingerprint, the same title) counts.
    response = await client.post(
        "/api/v1/alerts",
        json={"title": "flapping", "severity": "critical", "dedup_key": "second"},
        headers={"X-Routing-Key": key},
    )
    assert response.json()["alerts"][0]["incident_id"] == incident
    clock.advance(4 * 3600 - 1)
    assert await rt.quiet.timeouts.run_due(clock.now()) == 0
    clock.advance(1)
    assert await rt.quiet.timeouts.run_due(clock.now()) == 1
    found = await detail(client, incident)
    assert found["status"] == "resolved" and found["resolved_by"] == "auto-resolve"
    assert [a["status"] for a in found["alerts"]] == ["resolved", "resolved"]
    assert found["timeline"][-1]["message"] == "Resolved automatically: no new alert for 4 hours"
    assert found["mttr_seconds"] == 7 * 3600


async def test_timeouts_are_per_service_settings_and_refused_when_out_of_range(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    plain = await new_service(client, "plain")
    assert plain["ack_timeout_seconds"] is None and plain["auto_resolve_seconds"] is None
    incident = await alert(client, plain["key"])
    await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    clock.advance(20 * 3600)
    assert await rt.quiet.timeouts.run_due(clock.now()) == 0
    for fields in ({"ack_timeout_seconds": 0}, {"auto_resolve_seconds": -5}):
        refused = await client.patch(f"/api/v1/services/{plain['id']}", json=fields)
        assert refused.status_code == 422 and next(iter(fields)) in refused.text
    changed = await client.patch(
        f"/api/v1/services/{plain['id']}", json={"ack_timeout_seconds": 60}
    )
    assert changed.json()["ack_timeout_seconds"] == 60
    assert await rt.quiet.timeouts.run_due(clock.now()) == 1
