"""Outgoing webhooks against a real HTTP receiver on loopback, with a fake clock."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import alert, level, policy, user
from tests.conftest import new_service
from tests.support.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def verified(secret: str, body: bytes, header: str) -> bool:
    """The documented check, written from the README and nothing else."""
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))


async def make_hook(client: httpx.AsyncClient, url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/webhooks", json={"url": url, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_event_arrives_once_in_order_and_signed(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    policy_id = await policy(client, "p", [level(60, ("user", ann)), level(60, ("user", ben))])
    svc = await new_service(client, escalation_policy_id=policy_id)
    hook = await make_hook(client, receiver.url, headers={"Authorization": "Bearer t"})
    secret = hook["secret"]
    assert secret.startswith("whsec_")
    assert "secret" not in (await client.get(f"/api/v1/webhooks/{hook['id']}")).json()
    incident = await alert(client, svc["key"])
    await rt.escalation.run_due(clock.now())
    clock.advance(60)
    await rt.escalation.run_due(clock.now())  # escalated to level 2
    await client.post(f"/api/v1/incidents/{incident}/reassign", json={"user_id": ann})
    await client.post(f"/api/v1/incidents/{incident}/notes", json={"message": "on it"})
    await client.post(f"/api/v1/incidents/{incident}/acknowledge", json={"message": "mine"})
    await client.post(f"/api/v1/incidents/{incident}/resolve")
    await rt.dispatcher.run_once(clock.now())
    await rt.dispatcher.run_once(clock.now())
    got = receiver.requests
    types = [json.loads(r.body)["event"]["event_type"] for r in got]
    assert types == [
        "incident.new",
        "incident.escalated",
        "incident.reassigned",
        "incident.annotated",
        "incident.acknowledged",
        "incident.resolved",
    ]
    for request in got:
        assert verified(secret, request.body, request.headers["x-oncallnova-signature"])
        assert not verified("whsec_wrong", request.body, request.headers["x-oncallnova-signature"])
        assert request.headers["authorization"] == "Bearer t"
        assert request.headers["content-type"] == "application/json"
        event = json.loads(request.body)["event"]
        assert event["data"]["id"] == incident
        assert event["data"]["service_name"] == "checkout"
        assert request.headers["x-oncallnova-event"] == event["event_type"]
    assert len({r.headers["x-oncallnova-delivery"] for r in got}) == len(got)
    last = json.loads(got[-1].body)["event"]
    assert last["data"]["status"] == "resolved"
    assert last["agent"] == {"type": "user", "name": "Admin"}
    assert json.loads(got[0].body)["event"]["agent"] == {
        "type": "integration",
        "name": "integration:checkout",
    }


async def test_503_three_times_then_200_same_delivery_id(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [503, 503, 503]
    hook = await make_hook(client, receiver.url)
    queued = (await client.post(f"/api/v1/webhooks/{hook['id']}/test")).json()
    for _ in range(4):
        await rt.dispatcher.run_once(clock.now())
        clock.advance(800)  # past the longest default backoff (720 s + jitter)
    assert len(receiver.requests) == 4
    assert {r.headers["x-oncallnova-delivery"] for r in receiver.requests} == {
        queued["delivery_id"]
    }
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
    assert [(d["attempt"], d["outcome"], d["status_code"]) for d in reversed(log)] == [
        (1, "retry", 503),
        (2, "retry", 503),
        (3, "retry", 503),
        (4, "sent", 200),
    ]
    assert log[0]["delivery_status"] == "sent"


async def test_retries_wait_for_their_backoff(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [500]
    hook = await make_hook(client, receiver.url)
    await client.post(f"/api/v1/webhooks/{hook['id']}/test")
    await rt.dispatcher.run_once(clock.now())
    clock.advance(23)  # the first retry waits 30 s ± 20 %
    await rt.dispatcher.run_once(clock.now())
    assert len(receiver.requests) == 1
    clock.advance(14)
    await rt.dispatcher.run_once(clock.now())
    assert len(receiver.requests) == 2


async def test_gives_up_after_five_attempts(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [502] * 10
    hook = await make_hook(client, receiver.url)
    await client.post(f"/api/v1/webhooks/{hook['id']}/test")
    for _ in range(8):
        await rt.dispatcher.run_once(clock.now())
        clock.advance(900)
    assert len(receiver.requests) == 5
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
    assert log[0]["outcome"] == "failed"
    assert log[0]["delivery_status"] == "failed"


async def test_400_stops_at_once(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [400]
    hook = await make_hook(client, receiver.url)
    await client.post(f"/api/v1/webhooks/{hook['id']}/test")
    for _ in range(3):
        await rt.dispatcher.run_once(clock.now())
        clock.advance(900)
    assert len(receiver.requests) == 1
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
    assert [(d["outcome"], d["status_code"]) for d in log] == [("failed", 400)]


async def test_a_hanging_receiver_times_out(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = ["hang"]
    hook = await make_hook(client, receiver.url)
    await client.post(f"/api/v1/webhooks/{hook['id']}/test")
    await rt.dispatcher.run_once(clock.now())
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
    assert log[0]["outcome"] == "retry"
    assert "timed out after 5 s" in log[0]["error"]
    assert 4900 <= log[0]["duration_ms"] < 5900


async def test_deliveries_to_one_destination_stay_in_order(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.script = [503]  # the first event fails once; the second must wait for it
    hook = await make_hook(client, receiver.url)
    svc = await new_service(client)
    incident = await alert(client, svc["key"])
    await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    await rt.dispatcher.run_once(clock.now())
    assert len(receiver.requests) == 1
    clock.advance(40)
    await rt.dispatcher.run_once(clock.now())
    types = [json.loads(r.body)["event"]["event_type"] for r in receiver.requests]
    assert types == ["incident.new", "incident.new", "incident.acknowledged"]
    assert hook["id"]


async def test_filters_rotation_and_crud(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    one, two = await new_service(client, "one"), await new_service(client, "two")
    hook = await make_hook(
        client, receiver.url, events=["incident.resolved"], service_ids=[two["id"]]
    )
    first = await alert(client, one["key"])
    second = await alert(client, two["key"])
    for incident in (first, second):
        await client.post(f"/api/v1/incidents/{incident}/resolve")
    rotated = (
        await client.post(
            f"/api/v1/webhooks/{hook['id']}/rotate-secret", json={"grace_seconds": 3600}
        )
    ).json()
    assert rotated["secret"] != hook["secret"]
    await rt.dispatcher.run_once(clock.now())
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    event = json.loads(request.body)["event"]
    assert (event["event_type"], event["data"]["id"]) == ("incident.resolved", second)
    header = request.headers["x-oncallnova-signature"]
    assert header.count("v1=") == 2
    assert verified(hook["secret"], request.body, header)
    assert verified(rotated["secret"], request.body, header)
    clock.advance(3601)  # grace over: only the new secret signs
    await client.post(f"/api/v1/webhooks/{hook['id']}/test")
    await rt.dispatcher.run_once(clock.now())
    late = receiver.requests[-1].headers["x-oncallnova-signature"]
    assert late.count("v1=") == 1
    assert verified(rotated["secret"], receiver.requests[-1].body, late)
    disabled = await client.patch(f"/api/v1/webhooks/{hook['id']}", json={"enabled": False})
    assert disabled.json()["enabled"] is False
    for bad, field in [
        ({"url": "ftp://x"}, "url"),
        ({"url": receiver.url, "events": ["x"]}, "events"),
        ({"url": receiver.url, "headers": {"X-OnCallNova-Signature": "forged"}}, "headers"),
    ]:
        response = await client.post("/api/v1/webhooks", json=bad)
        assert response.status_code == 422
        assert field in response.json()["detail"]
    assert (await client.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/webhooks/{hook['id']}")).status_code == 404
