"""Personal notification rules with a fast-forwarded clock: a page walks through the
paged person's contact methods in time, an acknowledgement stops everyone's rules, a
person without rules gets every contact method at once; each rule fires once with two
engines, and a rule due while no engine ran fires after the restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from oncallnova.core.clock import FakeClock
from oncallnova.notify.models import Notification
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import alert, level, pages, policy, user
from tests.conftest import RuntimeFactory, api_client, new_service
from tests.support.formats import ServiceReceiver


@pytest.fixture
def ntfy() -> Iterator[ServiceReceiver]:
    with ServiceReceiver("ntfy") as receiver:
        yield receiver


@pytest.fixture
def slack() -> Iterator[ServiceReceiver]:
    with ServiceReceiver("slack") as receiver:
        yield receiver


async def contact(client: httpx.AsyncClient, user_id: str, **body: str) -> str:
    response = await client.post(f"/api/v1/users/{user_id}/contact-methods", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def rule(client: httpx.AsyncClient, user_id: str, method: str, minutes: int) -> None:
    body = {"contact_method_id": method, "delay_minutes": minutes}
    response = await client.post(f"/api/v1/users/{user_id}/notification-rules", json=body)
    assert response.status_code == 201, response.text


async def page_rows(rt: Runtime, incident: str) -> list[tuple[str, str]]:
    """(channel, contact method) of every page notification written, in order."""
    async with rt.db.read() as session:
        query = (
            select(Notification)
            .where(Notification.incident_id == incident, Notification.kind == "page")
            .order_by(Notification.seq)
        )
        rows = (await session.execute(query)).scalars()
        return [(n.channel, n.destination) for n in rows]


async def tick(rt: Runtime, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    await rt.engine.run_once()


async def test_rules_fire_in_time_and_an_ack_stops_everyones(
    client: httpx.AsyncClient,
    rt: Runtime,
    clock: FakeClock,
    ntfy: ServiceReceiver,
    slack: ServiceReceiver,
) -> None:
    ann = await user(client, "Ann", contact_methods=[{"address": "ann@example.com"}])
    bob = await user(client, "Bob")
    ann_email = (await client.get(f"/api/v1/users/{ann}")).json()["contact_methods"][0]["id"]
    ann_push = await contact(client, ann, type="ntfy", server=ntfy.url, topic="ann")
    ann_chat = await contact(client, ann, type="slack", url=slack.url)
    await rule(client, ann, ann_chat, 5)  # given out of order: kept by delay
    await rule(client, ann, ann_email, 0)
    await rule(client, ann, ann_push, 2)
    rules = (await client.get(f"/api/v1/users/{ann}/notification-rules")).json()
    assert [r["delay_minutes"] for r in rules["rules"]] == [0, 2, 5] and not rules["default"]
    bob_push = await contact(client, bob, type="ntfy", server=ntfy.url, topic="bob")
    await client.put(
        f"/api/v1/users/{bob}/notification-rules",
        json={"rules": [{"contact_method_id": bob_push, "delay_minutes": 3}]},
    )
    both = await policy(client, "p", [level(3600, ("user", ann), ("user", bob))])
    svc = await new_service(client, escalation_policy_id=both)
    incident = await alert(client, svc["key"])

    await rt.engine.run_once()  # level 1 pages Ann and Bob: Ann's email at once
    assert await page_rows(rt, incident) == [("email", ann_email)]
    await tick(rt, clock, 119)
    assert len(await page_rows(rt, incident)) == 1
    await tick(rt, clock, 1)  # 2 minutes: Ann's push
    assert await page_rows(rt, incident) == [("email", ann_email), ("ntfy", ann_push)]
    assert [p.body["topic"] for p in ntfy.valid] == ["ann"]
    await tick(rt, clock, 60)  # 3 minutes: Bob's push
    assert [p.body["topic"] for p in ntfy.valid] == ["ann", "bob"]
    await tick(rt, clock, 30)
    ack = await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    assert ack.status_code == 200
    for _ in range(6):  # Ann's chat rule (5 minutes) never fires
        await tick(rt, clock, 60)
    assert [c for c, _ in await page_rows(rt, incident)] == ["email", "ntfy", "ntfy"]
    assert slack.posted == []
    # The contact methods the page reached are told of the acknowledgement.
    assert [p.body["title"].split("]")[0] for p in ntfy.valid[2:]] == ["[ACKNOWLEDGED"] * 2
    listed = (await client.get(f"/api/v1/incidents/{incident}")).json()["pages"]
    assert {(p["user_id"], tuple(p["notified"])) for p in listed} == {
        (ann, ("email", "ntfy")),
        (bob, ("ntfy",)),
    }
    stopped = {p["user_id"]: p["rules_stopped_at"] for p in listed}
    assert stopped[ann] is not None  # her chat rule was still to come
    assert stopped[bob] is None  # his one rule had fired


async def test_without_rules_every_contact_method_is_notified_at_once(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, ntfy: ServiceReceiver
) -> None:
    ann = await user(client, "Ann")
    push = await contact(client, ann, type="ntfy", server=ntfy.url, topic="ann")
    assert (await client.get(f"/api/v1/users/{ann}/notification-rules")).json() == {
        "rules": [],
        "default": True,
    }
    svc = await new_service(
        client, escalation_policy_id=await policy(client, "p", [level(60, ("user", ann))])
    )
    incident = await alert(client, svc["key"])
    await rt.escalation.run_due(clock.now())
    assert [c for c, _ in await page_rows(rt, incident)] == ["email", "ntfy"]
    assert (await page_rows(rt, incident))[1][1] == push
    assert await pages(client, incident) == [(ann, 1, 0)]


async def test_a_deleted_contact_method_takes_its_rules_and_is_skipped_by_running_pages(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, ntfy: ServiceReceiver
) -> None:
    ann = await user(client, "Ann")
    push = await contact(client, ann, type="ntfy", server=ntfy.url, topic="ann")
    email = (await client.get(f"/api/v1/users/{ann}")).json()["contact_methods"][0]["id"]
    await rule(client, ann, email, 0)
    await rule(client, ann, push, 1)
    svc = await new_service(
        client, escalation_policy_id=await policy(client, "p", [level(600, ("user", ann))])
    )
    incident = await alert(client, svc["key"])
    await rt.engine.run_once()
    deleted = await client.delete(f"/api/v1/users/{ann}/contact-methods/{push}")
    assert deleted.status_code == 204
    rules = (await client.get(f"/api/v1/users/{ann}/notification-rules")).json()["rules"]
    assert [r["contact_method_id"] for r in rules] == [email]
    await tick(rt, clock, 120)
    assert [c for c, _ in await page_rows(rt, incident)] == ["email"]
    assert ntfy.posted == []


async def test_each_rule_fires_once_with_two_engines_and_after_a_restart(
    make_runtime: RuntimeFactory, clock: FakeClock, ntfy: ServiceReceiver
) -> None:
    first = await make_runtime()
    async with api_client(first) as client:
        ann = await user(client, "Ann")
        push = await contact(client, ann, type="ntfy", server=ntfy.url, topic="ann")
        await rule(client, ann, push, 1)
        await rule(client, ann, push, 2)
        svc = await new_service(
            client, escalation_policy_id=await policy(client, "p", [level(600, ("user", ann))])
        )
        incident = await alert(client, svc["key"])
    await first.escalation.run_due(clock.now())
    await first.stop()  # no engine runs while the rules come due
    clock.advance(61)
    engines = [await make_runtime(), await make_runtime()]
    for _ in range(3):
        await asyncio.gather(*(rt.engine.run_once() for rt in engines))
    assert await page_rows(engines[0], incident) == [("ntfy", push)]
    clock.advance(60)
    for _ in range(3):
        await asyncio.gather(*(rt.engine.run_once() for rt in engines))
    assert await page_rows(engines[1], incident) == [("ntfy", push), ("ntfy", push)]
    assert len(ntfy.valid) == 2
