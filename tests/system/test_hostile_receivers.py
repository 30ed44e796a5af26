"""The outbox against webhook receivers that trickle, hang or answer gigabytes, next to a
healthy one: every send ends by its deadline, a bad receiver delays nobody else, and an
answer's body costs at most the read cap."""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from oncallnova.core.clock import FakeClock
from oncallnova.engine.dispatch import Dispatcher
from oncallnova.notify.channels import Delivery
from oncallnova.notify.contacts import HttpTarget
from oncallnova.notify.models import Notification
from oncallnova.transport.webhooks.channel import MAX_RESPONSE_BYTES, WebhookChannel
from tests.api.oncall_helpers import alert
from tests.conftest import RuntimeFactory, api_client, new_service
from tests.support.hostile import HostileReceiver
from tests.support.receiver import Receiver

MIB = 1024 * 1024


async def until(condition: Callable[[], bool], within: float) -> float:
    """Seconds it took `condition` to hold (the event loop keeps running meanwhile)."""
    begin = time.monotonic()
    while not condition():
        if time.monotonic() - begin > within:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - begin


async def hook(client: httpx.AsyncClient, url: str) -> str:
    created = await client.post("/api/v1/webhooks", json={"url": url})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def attempts(client: httpx.AsyncClient, webhook_id: str) -> list[dict[str, Any]]:
    answer = await client.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_bad_receivers_hold_back_no_other_destination(
    make_runtime: RuntimeFactory, clock: FakeClock
) -> None:
    rt = await make_runtime(WEBHOOK_TIMEOUT_SECONDS="3", ENGINE_INTERVAL_SECONDS="0.2")
    with (
        HostileReceiver("trickle") as trickle,
        HostileReceiver("hang") as hang,
        HostileReceiver("huge") as huge,
        Receiver() as healthy,
    ):
        async with api_client(rt) as client:
            svc = await new_service(client)
            bad = {
                name: await hook(client, r.url)
                for name, r in (("trickle", trickle), ("hang", hang), ("huge", huge))
            }
            await hook(client, healthy.url)
            rt.engine.start()
            incident = await alert(client, svc["key"])
            assert await until(lambda: len(healthy.requests) == 1, 5) < 1.5
            await until(lambda: trickle.requests == hang.requests == huge.requests == 1, 5)
            # The next event reaches the healthy receiver while the trickling and the
            # hanging sends are still waiting for their deadline.
            await client.post(f"/api/v1/incidents/{incident}/acknowledge")
            assert await until(lambda: len(healthy.requests) == 2, 5) < 1.5
            assert await attempts(client, bad["hang"]) == []
            assert await attempts(client, bad["trickle"]) == []
            types = [json.loads(r.body)["event"]["event_type"] for r in healthy.requests]
            assert types == ["incident.new", "incident.acknowledged"]

            # Each bad send ends by its total deadline and counts as a failure to retry.
            deadline = time.monotonic() + 6
            logs: dict[str, list[dict[str, Any]]] = {}
            while time.monotonic() < deadline and len(logs) < 3:
                for name, webhook_id in bad.items():
                    if found := await attempts(client, webhook_id):
                        logs[name] = found
                await asyncio.sleep(0.1)
            assert sorted(logs) == ["hang", "huge", "trickle"]
            for name in ("trickle", "hang"):
                [only] = logs[name]
                assert only["outcome"] == "retry", only
                assert "timed out after 3 s" in only["error"]
                assert 2900 <= only["duration_ms"] < 4000, only
            [answer] = logs["huge"]
            assert (answer["outcome"], answer["status_code"]) == ("retry", 500)
            assert answer["error"].startswith("HTTP 500: xxx") and len(answer["error"]) <= 210
            assert answer["duration_ms"] < 2000
            assert huge.bytes_sent < 32 * MIB  # of 400 MiB: the rest was never read

        # The normal backoff: the first retry comes 30 s (± 20 %) after the failure.
        async with rt.db.read() as session:
            rows = (
                await session.execute(
                    select(Notification).where(Notification.destination.in_(bad.values()))
                )
            ).scalars()
            for row in rows:
                assert row.status == "pending"
                if row.event_type == "incident.new":
                    assert row.attempts == 1
                    wait = (row.next_attempt_at - clock.now()).total_seconds()
                    assert 24 <= wait <= 36, wait
                else:  # the acknowledgement waits behind it: one stream stays in order
                    assert row.attempts == 0


def _delivery() -> Delivery:
    return Delivery(
        id="d1",
        channel="webhook",
        destination="w1",
        kind="test",
        event_type="webhook.test",
        incident_id=None,
        payload={"event": {"event_type": "webhook.test"}},
        attempt=1,
    )


def _channel(url: str, timeout: float = 5.0) -> WebhookChannel:
    async def directory(_: str) -> HttpTarget:
        return HttpTarget(url=url, headers={}, secrets=["whsec_test"])

    return WebhookChannel(directory, timeout=timeout)


async def test_a_huge_answer_costs_no_more_than_the_read_cap() -> None:
    with HostileReceiver("huge") as huge:
        channel = _channel(huge.url)
        tracemalloc.start()
        try:
            outcome = await channel.send(_delivery())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            await channel.close()
    assert (outcome.ok, outcome.temporary, outcome.status_code) == (False, True, 500)
    assert outcome.error is not None and len(outcome.error) <= 210
    assert MAX_RESPONSE_BYTES <= 64 * 1024
    assert peak < 8 * MIB, peak  # reading the whole answer would take 400 MiB and more
    assert huge.bytes_sent < 32 * MIB  # what the kernel buffered before the close
    assert huge.closed_early


async def test_a_trickling_receiver_is_cut_at_the_deadline() -> None:
    with HostileReceiver("trickle") as trickle:
        channel = _channel(trickle.url, timeout=2)
        begin = time.monotonic()
        try:
            outcome = await channel.send(_delivery())
        finally:
            await channel.close()
        elapsed = time.monotonic() - begin
    # one byte a second never trips a per-read timeout: only the total deadline ends it
    assert 1.9 <= elapsed < 3, elapsed
    assert (outcome.ok, outcome.temporary) == (False, True)
    assert outcome.error is not None and "timed out after 2 s" in outcome.error


async def test_a_hanging_receiver_with_many_streams_leaves_slots_for_others(
    make_runtime: RuntimeFactory, clock: FakeClock
) -> None:
    rt = await make_runtime(WEBHOOK_TIMEOUT_SECONDS="3")
    # Four sending slots, two of them at most for one destination.
    dispatcher = Dispatcher(
        rt.db,
        rt.clock,
        {"webhook": rt.webhook_channel},
        retry_delays=[30],
        lease_seconds=60,
        batch=4,
        per_destination=2,
    )
    with HostileReceiver("hang") as hang, Receiver() as healthy:
        async with api_client(rt) as client:
            services = [await new_service(client, f"svc{n}") for n in range(5)]
            await hook(client, hang.url)  # every incident: five streams, the oldest rows
            created = await client.post(
                "/api/v1/webhooks",
                json={"url": healthy.url, "service_ids": [services[-1]["id"]]},
            )
            assert created.status_code == 201, created.text
            for svc in services:
                await alert(client, svc["key"])
            sending = asyncio.create_task(dispatcher.run_once(clock.now()))
            try:
                assert await until(lambda: len(healthy.requests) == 1, 5) < 1.5
                # The hanging receiver holds two slots, not four: its two requests may
                # reach it just after the healthy one, but no third comes while they hang.
                await until(lambda: hang.requests >= 2, 2)
                await asyncio.sleep(0.5)
                assert hang.requests == 2
            finally:
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)
