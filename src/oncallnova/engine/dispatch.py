"""Reconciler: send what the outbox holds, retry what failed for a while.

A pass claims due rows in one transaction (leasing them), sends them concurrently, and
records each result in a second transaction. A dispatcher that dies after the claim
leaves leased rows; once the lease runs out any dispatcher takes them again, so nothing
is lost (a receiver may see a delivery twice; the delivery id lets it drop the copy).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from datetime import datetime, timedelta
from typing import Any

from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.metrics import Metrics
from oncallnova.notify import store
from oncallnova.notify.channels import Channel, Delivery, Outcome
from oncallnova.notify.models import Notification

log = logging.getLogger(__name__)


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
        crash_after_claim: bool = False,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._channels = channels
        self._delays = retry_delays
        self._lease = timedelta(seconds=lease_seconds)
        self._batch = batch
        self._crash_after_claim = crash_after_claim
        self.max_attempts = len(retry_delays) + 1
        self._metrics = metrics

    async def run_once(self, now: datetime) -> int:
        async with self._db.read() as session:
            if not await store.any_due(session, now):
                return 0  # nothing to send: no write transaction, no write lock taken
        total = 0
        while True:
            async with self._db.write() as session:
                rows = await store.claim(session, now, self._batch, now + self._lease)
                deliveries = [_delivery(row) for row in rows]
            if not deliveries:
                return total
            if self._crash_after_claim:
                os._exit(70)  # fault injection for tests: die between claim and send
            results = await asyncio.gather(*(self._send(d) for d in deliveries))
            verdicts: list[tuple[str, str]] = []
            async with self._db.write() as session:
                for delivery, (outcome, started, duration) in zip(deliveries, results, strict=True):
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
            # Go on until nothing is due: each pass sends at most one row per stream
            # (destination and incident), so the next row of a stream waits for the pass after.
            total += len(deliveries)

    async def _send(self, delivery: Delivery) -> tuple[Outcome, datetime, float]:
        started = self._clock.now()
        begin = time.perf_counter()
        channel = self._channels.get(delivery.channel)
        try:
            if channel is None:
                outcome = Outcome(ok=False, error=f"no channel '{delivery.channel}' configured")
            else:
                outcome = await channel.send(delivery)
        except Exception as exc:  # a channel bug must not stall the outbox
            log.exception("channel %s failed on delivery %s", delivery.channel, delivery.id)
            outcome = Outcome(ok=False, temporary=True, error=f"internal error: {exc}"[:500])
        return outcome, started, round((time.perf_counter() - begin) * 1000, 3)

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
    )
