"""Reconciler: send what the outbox holds, retry what failed for a while.

A pass claims due rows in one transaction (leasing them) and sends them concurrently.
Each result is recorded as soon as its send ends, and the pass claims again at once, so
a slow receiver holds back only its own stream: the next row of every other stream
(destination and incident, the unit whose order is kept) goes out when its predecessor
is done, and rows that become due meanwhile (new events, retries) are claimed while the
slow send is still waiting for its deadline. No destination has more than
`per_destination` sends in flight, so one with many streams cannot take every slot. A
pass ends when nothing is in flight and nothing is due.

A dispatcher that dies after the claim leaves leased rows; once the lease runs out any
dispatcher takes them again, so nothing is lost (a receiver may see a delivery twice;
the delivery id lets it drop the copy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from datetime import datetime, timedelta
from typing import Any

from opentelemetry import trace

from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.metrics import Metrics
from oncallnova.core.tracing import Tracing, context_of
from oncallnova.notify import store
from oncallnova.notify.channels import Channel, Delivery, Outcome
from oncallnova.notify.models import Notification

log = logging.getLogger(__name__)

Result = tuple[Outcome, datetime, float]
MAX_RETRY_AFTER_SECONDS = 3600.0


class Dispatcher:
    name = "dispatch"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        channels: dict[str, Channel],
        *,
        retry_delays: list[float],
        lease_seconds: float,
        batch: int = 50,
        per_destination: int = 5,
        poll_seconds: float = 1.0,
        crash_after_claim: bool = False,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._channels = channels
        self._delays = retry_delays
        self._lease = timedelta(seconds=lease_seconds)
        self._batch = batch  # also the most sends in flight at once
        self._per_destination = per_destination  # of those, the most to one destination
        self._poll = poll_seconds
        self._crash_after_claim = crash_after_claim
        self.max_attempts = len(retry_delays) + 1
        self._metrics = metrics
        self._tracing = tracing or Tracing()
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """New rows were committed: a pass waiting on slow sends claims them now."""
        self._woken.set()

    async def run_once(self, now: datetime) -> int:
        async with self._db.read() as session:
            if not await store.any_due(session, now):
                return 0  # nothing to send: no write transaction, no write lock taken, no span
        with self._tracing.tracer.start_as_current_span("engine.dispatch") as span:
            total = await self._pass(now)
            span.set_attribute("notifications.count", total)
        return total

    async def _pass(self, now: datetime) -> int:
        in_flight: dict[asyncio.Task[Result], Delivery] = {}
        total = 0
        try:
            while True:
                self._woken.clear()
                room = self._batch - len(in_flight)
                if room > 0:
                    # `now` may be ahead of the clock (a caller catching up); never behind it.
                    for delivery in await self._claim(max(now, self._clock.now()), room):
                        in_flight[asyncio.create_task(self._send(delivery))] = delivery
                if not in_flight:
                    return total
                done = await self._wait(set(in_flight))
                finished = [(in_flight.pop(task), task.result()) for task in done]
                if finished:
                    await self._record(finished)
                    total += len(finished)
        finally:
            # Cancelled (the engine stops): the unsent rows stay leased and are sent
            # again once their lease ends, by this engine or another.
            for task in in_flight:
                task.cancel()

    async def _claim(self, now: datetime, limit: int) -> list[Delivery]:
        async with self._db.write() as session:
            rows = await store.claim(
                session, now, limit, now + self._lease, per_destination=self._per_destination
            )
            deliveries = [_delivery(row) for row in rows]
        if deliveries and self._crash_after_claim:
            os._exit(70)  # fault injection for tests: die between claim and send
        return deliveries

    async def _wait(self, tasks: set[asyncio.Task[Result]]) -> set[asyncio.Task[Result]]:
        """The sends that are done, once one is, new rows are committed, or a poll is due
        (for retries coming due while every send in flight is slow)."""
        woken = asyncio.ensure_future(self._woken.wait())
        try:
            done, _ = await asyncio.wait(
                {*tasks, woken}, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            woken.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await woken
        return {task for task in tasks if task in done}

    async def _record(self, finished: list[tuple[Delivery, Result]]) -> None:
        verdicts: list[tuple[str, str]] = []
        async with self._db.write() as session:
            for delivery, (outcome, started, duration) in finished:
                values, verdict = self._verdict(delivery, outcome)
                verdicts.append((delivery.channel, verdict))
                await store.finish(
                    session,
                    delivery.id,
                    delivery.attempt,
                    values,
                    {
                        "notification_id": delivery.id,
                        "attempt": delivery.attempt,
                        "started_at": started,
                        "duration_ms": duration,
                        "outcome": verdict,
                        "status_code": outcome.status_code,
                        "error": outcome.error,
                    },
                )
        if self._metrics is not None:  # counted once the results are committed
            for channel, verdict in verdicts:
                self._metrics.notifications.labels(channel, verdict).inc()

    async def _send(self, delivery: Delivery) -> Result:
        started = self._clock.now()
        begin = time.perf_counter()
        # The send continues the trace of the change that queued it (an alert's request,
        # say), linked to this dispatch pass; a row without one stays in the pass's trace.
        queued_by = context_of(delivery.trace_parent)
        pass_span = trace.get_current_span().get_span_context()
        with self._tracing.tracer.start_as_current_span(
            "notify.send",
            context=queued_by,
            links=[trace.Link(pass_span)] if queued_by and pass_span.is_valid else None,
            kind=trace.SpanKind.CLIENT,
            attributes={"notify.channel": delivery.channel, "notify.attempt": delivery.attempt},
        ) as span:
            outcome = await self._outcome(delivery)
            span.set_attribute("notify.ok", outcome.ok)
            if outcome.status_code is not None:
                span.set_attribute("http.status_code", outcome.status_code)
        return outcome, started, round((time.perf_counter() - begin) * 1000, 3)

    async def _outcome(self, delivery: Delivery) -> Outcome:
        channel = self._channels.get(delivery.channel)
        if channel is None:
            return Outcome(ok=False, error=f"no channel '{delivery.channel}' configured")
        lease = self._lease.total_seconds()
        # A backstop for a channel without its own deadline: past its lease the row may
        # be taken by another dispatcher, so the send counts as failed.
        deadline = asyncio.timeout(lease)
        try:
            async with deadline:
                return await channel.send(delivery)
        except Exception as exc:  # a channel bug must not stall the outbox
            if isinstance(exc, TimeoutError) and deadline.expired():
                error = f"no answer within the lease ({lease:g} s)"
                return Outcome(ok=False, temporary=True, error=error)
            log.exception("channel %s failed on delivery %s", delivery.channel, delivery.id)
            return Outcome(ok=False, temporary=True, error=f"internal error: {exc}"[:500])

    def _verdict(self, delivery: Delivery, outcome: Outcome) -> tuple[dict[str, Any], str]:
        now = self._clock.now()
        if outcome.ok:
            return {
                "status": store.SENT,
                "sent_at": now,
                "lease_until": None,
                "last_error": None,
            }, "sent"
        if outcome.temporary and delivery.attempt < self.max_attempts:
            delay = self._delays[delivery.attempt - 1] * random.uniform(0.8, 1.2)  # noqa: S311
            if outcome.retry_after is not None:
                # The receiver said when to come back: not before (bounded, so a typo
                # in a header cannot park a page for days).
                delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER_SECONDS))
            return {
                "status": store.PENDING,
                "lease_until": None,
                "last_error": outcome.error,
                "next_attempt_at": now + timedelta(seconds=delay),
            }, "retry"
        log.warning(
            "delivery %s (%s to %s) failed for good: %s",
            delivery.id,
            delivery.channel,
            delivery.destination,
            outcome.error,
        )
        return {"status": store.FAILED, "lease_until": None, "last_error": outcome.error}, "failed"


def _delivery(row: Notification) -> Delivery:
    return Delivery(
        id=row.id,
        channel=row.channel,
        destination=row.destination,
        kind=row.kind,
        event_type=row.event_type,
        incident_id=row.incident_id,
        payload=dict(row.payload),
        attempt=row.attempts,
        trace_parent=row.trace_parent,
    )
