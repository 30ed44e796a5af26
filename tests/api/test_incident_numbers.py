"""Short incident numbers (#1, #2, ...): in the API beside the id, as a way to fetch an
incident, in webhooks, in emails and on the pages, since responders say "incident 482"."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.notify.channels import Delivery
from oncallnova.runtime.container import Runtime
from oncallnova.transport.email.render import render
from tests.api.oncall_helpers import alert, level, policy, user
from tests.conftest import new_service
from tests.support.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


async def test_incidents_are_numbered_and_found_by_number(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    first = await alert(client, svc["key"], "Disk full")
    second = await alert(client, svc["key"], "CPU high")  # same key: joins the first
    assert second == first
    other = await new_service(client, "payments")
    third = await alert(client, other["key"], "Latency")

    listing = (await client.get("/api/v1/incidents")).json()["items"]
    numbers = {i["id"]: i["number"] for i in listing}
    assert numbers[third] == numbers[first] + 1

    by_number = await client.get(f"/api/v1/incidents/{numbers[third]}")
    assert by_number.status_code == 200, by_number.text
    body = by_number.json()
    assert body["id"] == third and body["number"] == numbers[third]
    assert [a["title"] for a in body["alerts"]] == ["Latency"]
    assert body["timeline"][0]["kind"] == "triggered"
    by_id = (await client.get(f"/api/v1/incidents/{third}")).json()
    assert by_id["number"] == numbers[third]

    for missing in ("999999", "99999999999999999999"):
        gone = await client.get(f"/api/v1/incidents/{missing}")
        assert gone.status_code == 404, gone.text
        assert gone.json()["detail"] == f"incident {missing} not found"


async def test_pages_show_the_number(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    incident = await alert(client, svc["key"], "Disk full")
    number = (await client.get(f"/api/v1/incidents/{incident}")).json()["number"]

    listing = await client.get("/incidents")
    assert f'<span class="muted">#{number}</span> <a href="/incidents/{incident}">' in listing.text
    page = await client.get(f"/incidents/{number}")  # the page answers by number too
    assert page.status_code == 200
    assert f"<title>#{number} Disk full" in page.text
    assert f'<strong title="Incident number">#{number}</strong>' in page.text


async def test_webhooks_carry_the_number_from_the_first_event(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    ann = await user(client, "Ann")
    policy_id = await policy(client, "p", [level(60, ("user", ann))])
    svc = await new_service(client, escalation_policy_id=policy_id)
    hook = await client.post("/api/v1/webhooks", json={"url": receiver.url})
    assert hook.status_code == 201, hook.text
    incident = await alert(client, svc["key"])
    number = (await client.get(f"/api/v1/incidents/{incident}")).json()["number"]
    await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    await rt.dispatcher.run_once(clock.now())

    events = [json.loads(r.body)["event"] for r in receiver.requests]
    assert [e["event_type"] for e in events] == ["incident.new", "incident.acknowledged"]
    assert [(e["data"]["id"], e["data"]["number"]) for e in events] == [(incident, number)] * 2


def test_email_subject_and_bodies_lead_with_the_number() -> None:
    delivery = Delivery(
        id="d1",
        channel="email",
        destination="u1",
        kind="page",
        incident_id="i1",
        event_type=None,
        payload={
            "to": "ann@example.com",
            "user_name": "Ann",
            "service_name": "checkout",
            "incident": {"id": "i1", "number": 482, "title": "CPU high", "severity": "high"},
            "level": 1,
        },
        attempt=1,
    )
    message = render(delivery, "https://oncall.example.com")
    assert message["Subject"] == "[HIGH] #482 checkout: CPU high"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Incident:  #482 CPU high" in text and "Incident #482 (i1)" in text
    # A delivery queued before incidents had numbers still renders, without one.
    del delivery.payload["incident"]["number"]
    assert render(delivery, "https://x")["Subject"] == "[HIGH] checkout: CPU high"


async def test_incident_page_counts_levels_from_1_and_offers_escalate_only_with_a_policy(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock
) -> None:
    ann = await user(client, "Ann")
    policy_id = await policy(client, "p", [level(60, ("user", ann))])
    paged = await new_service(client, escalation_policy_id=policy_id)
    unpaged = await new_service(client, "payments")
    with_policy = await alert(client, paged["key"])
    without = await alert(client, unpaged["key"])
    await rt.escalation.run_due(clock.now())

    page = (await client.get(f"/incidents/{with_policy}")).text
    assert "Ann — level 1," in page  # the timeline says "Paged level 1" too
    assert "Paged level 1: Ann" in page
    assert "Escalate now" in page
    page = (await client.get(f"/incidents/{without}")).text
    assert "Escalate now" not in page
