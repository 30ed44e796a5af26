"""Shift reminders with a fast-forwarded clock: before a shift starts and when it ends,
from the schedule with its overrides, in the person's own time zone, once per shift
whatever the number of engines, across the change to summer time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from oncallnova.core.clock import FakeClock
from oncallnova.notify.models import Notification
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import schedule, user
from tests.conftest import RuntimeFactory, api_client
from tests.support.formats import ServiceReceiver


@pytest.fixture
def clock() -> FakeClock:
    """Two days before Europe moves to summer time (29 March 2026)."""
    return FakeClock(datetime(2026, 3, 27, 0, 0, tzinfo=UTC))


@pytest.fixture
def ntfy() -> Iterator[ServiceReceiver]:
    with ServiceReceiver("ntfy") as receiver:
        yield receiver


async def reminders(rt: Runtime) -> list[tuple[datetime, str, str]]:
    """(written at, title, text) of every reminder in the outbox, in order."""
    async with rt.db.read() as session:
        query = select(Notification).where(Notification.kind == "reminder")
        rows = (await session.execute(query.order_by(Notification.seq))).scalars()
        return [(n.created_at, n.payload["title"], n.payload["text"]) for n in rows]


async def setup(client: httpx.AsyncClient, ntfy: ServiceReceiver) -> tuple[str, str]:
    """Ann, who lives in New York, is on call 09:00-17:00 Berlin time every day; she asks
    for a push an hour before each shift and when it ends."""
    ann = await user(client, "Ann", time_zone="America/New_York")
    push = await client.post(
        f"/api/v1/users/{ann}/contact-methods",
        json={"type": "ntfy", "server": ntfy.url, "topic": "ann-shifts"},
    )
    method = push.json()["id"]
    layer = {
        "name": "days",
        "users": [ann],
        "turn": "daily",
        "handoff": "2026-03-20T09:00:00",
        "restrictions": [{"start": "09:00", "end": "17:00"}],
    }
    rota = await schedule(client, "Berlin days", [layer], time_zone="Europe/Berlin")
    for body in (
        {"contact_method_id": method, "event": "start", "minutes_before": 60},
        {"contact_method_id": method, "event": "end"},
    ):
        added = await client.post(f"/api/v1/users/{ann}/shift-reminders", json=body)
        assert added.status_code == 201, added.text
    return ann, rota["id"]


async def test_reminders_follow_the_shifts_across_the_change_to_summer_time(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, ntfy: ServiceReceiver
) -> None:
    await setup(client, ntfy)
    # Walk four days in half-hour steps, the engine running at each.
    while clock.now() < datetime(2026, 3, 31, 0, 0, tzinfo=UTC):
        await rt.engine.run_once()
        clock.advance(30 * 60)
    sent = await reminders(rt)
    starts = [(at, text) for at, title, text in sent if title.startswith("On call in 1 hour")]
    ends = [(at, text) for at, title, text in sent if title.startswith("Your on-call shift ended")]
    # 09:00 in Berlin is 08:00 UTC in winter (CET) and 07:00 UTC from 29 March (CEST);
    # Ann reads it on New York time, already on summer time (EDT) since 8 March.
    assert [at for at, _ in starts] == [
        datetime(2026, 3, 27, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 28, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC),
    ]
    assert "starts Fri 27 Mar 04:00 EDT and ends Fri 27 Mar 12:00 EDT" in starts[0][1]
    assert "starts Sun 29 Mar 03:00 EDT and ends Sun 29 Mar 11:00 EDT" in starts[2][1]
    assert [at for at, _ in ends] == [
        datetime(2026, 3, 27, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 28, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 15, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 15, 0, tzinfo=UTC),
    ]
    assert "ended Mon 30 Mar 11:00 EDT" in ends[-1][1]
    await rt.dispatcher.run_once(clock.now())
    assert len(ntfy.valid) == 8 and {p.body["topic"] for p in ntfy.valid} == {"ann-shifts"}
    assert ntfy.valid[0].body["title"] == "On call in 1 hour: Berlin days"


async def test_an_override_moves_the_reminder_and_two_engines_send_it_once(
    make_runtime: RuntimeFactory, clock: FakeClock, ntfy: ServiceReceiver
) -> None:
    engines = [await make_runtime(), await make_runtime()]
    async with api_client(engines[0]) as client:
        _, rota = await setup(client, ntfy)
        bob = await user(client, "Bob")
        # Bob takes the morning of 27 March: Ann's shift starts at 12:00 Berlin instead.
        override = {
            "user_id": bob,
            "start": "2026-03-27T09:00:00+01:00",
            "end": "2026-03-27T12:00:00+01:00",
        }
        assert (await client.post(f"/api/v1/schedules/{rota}/overrides", json=override)).is_success
    while clock.now() < datetime(2026, 3, 27, 18, 0, tzinfo=UTC):
        await asyncio.gather(*(rt.engine.run_once() for rt in engines))
        clock.advance(30 * 60)
    sent = await reminders(engines[0])
    assert [(at, title) for at, title, _ in sent] == [
        (datetime(2026, 3, 27, 10, 0, tzinfo=UTC), "On call in 1 hour: Berlin days"),
        (datetime(2026, 3, 27, 16, 0, tzinfo=UTC), "Your on-call shift ended: Berlin days"),
    ]
    assert "starts Fri 27 Mar 07:00 EDT" in sent[0][2]


async def test_a_reminder_sends_a_test_and_goes_with_its_contact_method(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, ntfy: ServiceReceiver
) -> None:
    ann, _ = await setup(client, ntfy)
    listed = (await client.get(f"/api/v1/users/{ann}/shift-reminders")).json()["reminders"]
    assert [(r["event"], r["minutes_before"]) for r in listed] == [("start", 60), ("end", 60)]
    queued = await client.post(f"/api/v1/users/{ann}/shift-reminders/{listed[0]['id']}/test")
    assert queued.status_code == 202, queued.text
    await rt.dispatcher.run_once(clock.now())
    [posted] = ntfy.valid
    assert posted.body["title"] == "Test: On call in 1 hour: Berlin days"
    assert "starts Fri 27 Mar 04:00 EDT" in posted.body["message"]
    assert (await reminders(rt))[0][0] == clock.now()
    second = await client.delete(f"/api/v1/users/{ann}/shift-reminders/{listed[1]['id']}")
    assert second.status_code == 204
    method = listed[0]["contact_method_id"]
    await client.delete(f"/api/v1/users/{ann}/contact-methods/{method}")
    assert (await client.get(f"/api/v1/users/{ann}/shift-reminders")).json()["reminders"] == []
    clock.advance(timedelta(hours=8).total_seconds())
    await rt.engine.run_once()
    assert len(await reminders(rt)) == 1  # the test alone
