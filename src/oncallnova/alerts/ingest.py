"""The ingestion pipeline: many requests' alerts, one transaction.

Requests hand their validated alerts to `Ingestor.submit` and wait. A writer task takes
everything queued so far and stores it in a single transaction: dedup against open
alerts, correlation into incidents, auto-resolve. The request's answer is sent only
after that commit, so a 2xx always means the alert is stored. The queue is bounded: past
`queue_limit` pending alerts, `submit` refuses with `Overloaded` (HTTP 429) instead of
building a backlog that a crash would lose.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts import batches, logic, store, submissions
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertResult
from oncallnova.alerts.submissions import Item, Submission
from oncallnova.core.analyze import TableStats
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database, closed, unavailable
from oncallnova.core.errors import Overloaded
from oncallnova.core.ids import new_id
from oncallnova.core.locks import lock_id, lock_keys
from oncallnova.core.retry import RetryTransaction, retry_conflicts
from oncallnova.core.tracing import Tracing
from oncallnova.incidents.api import IncidentsInTx, NewAlert, QuietSource, SeverityRaise
from oncallnova.services.api import ServiceRoute

log = logging.getLogger(__name__)


class Ingestor:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        incidents: IncidentsInTx,
        *,
        queue_limit: int,
        max_batch: int = 5000,
        writers: int = 1,
        tracing: Tracing | None = None,
        count: Callable[[str, Iterable[bool]], None] | None = None,
        quiet: QuietSource | None = None,
    ) -> None:
        # Alerts can arrive far faster than autovacuum refreshes the planner's statistics.
        self.stats = TableStats(db, ["alerts", "incidents"])
        self.tracing = tracing or Tracing()
        self._db = db
        self._clock = clock
        self._incidents = incidents
        self._queue: asyncio.Queue[Submission] = asyncio.Queue()
        self._pending = 0
        self._queue_limit = queue_limit
        # Set when alerts were refused for lack of room, until the backlog has halved:
        # meanwhile requests are refused before their bodies are read (`refuse_if_full`).
        self._full = False
        self._max_batch = max_batch
        self._writer_count = writers
        self._writers: list[asyncio.Task[None]] = []
        # Counts each request's stored alerts (service, deduplicated flags) once committed.
        self._count = count or _no_count
        self._next_forget = 0.0  # when batch ids older than a day are next deleted
        # Silences and maintenance windows, read from a short-lived cache per batch.
        self._quiet = quiet

    def start(self) -> None:
        if not self._writers:
            self._writers = [
                asyncio.create_task(self._run(), name=f"ingest-writer-{n}")
                for n in range(self._writer_count)
            ]

    async def stop(self) -> None:
        """Store what is queued, then stop the writers."""
        await self._queue.join()
        for task in self._writers:
            task.cancel()
        await asyncio.gather(*self._writers, return_exceptions=True)
        self._writers = []
        await self.stats.stop()

    def refuse_if_full(self) -> None:
        """Refuse (`Overloaded`) while the queue is full, so that a storm of retried
        batches costs no parsing: once `submit` has refused alerts for lack of room, the
        queue counts as full until its backlog has drained to half the limit."""
        if self._full or self._pending >= self._queue_limit:
            raise Overloaded("ingestion queue is full; retry shortly", retry_after=1)

    def submit(
        self,
        route: ServiceRoute,
        alerts: list[NormalizedAlert],
        actor: str,
        batch_id: str | None = None,
    ) -> asyncio.Future[list[AlertResult]]:
        """Queue the alerts now (`Overloaded` at once when there is no room); the future
        completes once they are committed. Queued without awaiting anything, so batches
        handed over together are stored in the same transaction; a caller that goes away
        does not cancel its alerts."""
        if self._pending + len(alerts) > self._queue_limit:
            self._full = True
            raise Overloaded("ingestion queue is full; retry shortly", retry_after=1)
        items = submissions.items(route, alerts, actor)
        submission = Submission(
            items,
            asyncio.get_running_loop().create_future(),
            trace_context=otel_context.get_current() if self.tracing.enabled else None,
            batch_id=batch_id,
        )
        self._pending += len(items)
        self._queue.put_nowait(submission)
        return asyncio.shield(submission.done)

    async def store_in(
        self,
        session: AsyncSession,
        route: ServiceRoute,
        alerts: list[NormalizedAlert],
        actor: str,
        now: datetime,
    ) -> list[AlertResult]:
        """Store alerts in the caller's transaction, as a batch of the writer would be
        (for alerts OnCallNova raises itself, such as an expired heartbeat's)."""
        results = []
        for chunk in submissions.chunks(submissions.items(route, alerts, actor)):
            results.extend((await self._write_chunk(session, chunk, now))[0])
        return results

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0].items)
            while size < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
                size += len(batch[-1].items)
            try:
                await self._store(batch)
            finally:
                self._pending -= size
                if self._pending <= self._queue_limit // 2:
                    self._full = False
                for _ in batch:
                    self._queue.task_done()

    async def _store(self, batch: list[Submission]) -> None:
        try:
            await retry_conflicts(lambda: self._write(batch))
        except Exception as exc:
            if unavailable(exc):
                # No request of the batch can be stored: each is answered 503 (the outage
                # is logged once there), without trying them one by one.
                for submission in batch:
                    _fail(submission, exc)
                return
            if len(batch) == 1:
                log.exception("storing %d alerts failed", len(batch[0].items))
                _fail(batch[0], exc)
                return
            # Keep one bad request from failing its neighbours: store them one by one.
            for submission in batch:
                await self._store([submission])
            return
        for submission in batch:
            results = submission.results
            if results and not submission.replay:
                self._count(
                    submission.items[0].route.service_name, (r.deduplicated for r in results)
                )
            if not submission.done.done():
                submission.done.set_result(results)

    async def _write(self, batch: list[Submission]) -> None:
        keyed = any(submission.batch_id for submission in batch)
        with self._batch_span(batch, sum(len(s.items) for s in batch)):
            now = self._clock.now()
            async with self._db.write(pinged=False) as session:
                try:
                    added = await self._write_in(session, batch, keyed, now)
                except DBAPIError as exc:
                    if closed(exc):  # before the commit, so nothing of it was stored
                        raise RetryTransaction("the connection had closed") from exc
                    raise
        self.stats.added(added)

    async def _write_in(
        self, session: AsyncSession, batch: list[Submission], keyed: bool, now: datetime
    ) -> int:
        """Store the batch in `session`; returns how many alerts it added."""
        fresh = submissions.fresh(batch) if keyed else batch
        results = []
        added = 0
        for chunk in submissions.chunks([item for s in fresh for item in s.items]):
            chunk_results, new = await self._write_chunk(session, chunk, now)
            results.extend(chunk_results)
            added += new
        position = 0
        for submission in fresh:
            submission.results = results[position : position + len(submission.items)]
            position += len(submission.items)
        if keyed:
            await self._remember(session, batch, fresh, now)
        return added

    async def _remember(
        self,
        session: AsyncSession,
        batch: list[Submission],
        fresh: list[Submission],
        now: datetime,
    ) -> None:
        """Record the new batches with their results, and give the replays theirs. A
        batch id found recorded already was stored by an earlier delivery: the
        transaction is rolled back and made again with that batch as a replay."""
        stored = {
            s.batch_id: [
                {f: getattr(r, f) for f in AlertResult.__slots__}  # type: ignore[attr-defined]
                for r in s.results
            ]
            for s in fresh
            if s.batch_id is not None
        }
        recorded = await batches.record(session, stored, now)
        if len(recorded) < len(stored):
            for submission in fresh:
                if submission.batch_id in stored and submission.batch_id not in recorded:
                    submission.recorded_before = True
            raise RetryTransaction("a batch had been stored by an earlier delivery")
        replays = [s for s in batch if s.replay]
        if replays:
            earlier = await batches.results_of(
                session, [s.batch_id for s in replays if s.batch_id not in stored]
            )
            for submission in replays:
                rows = stored.get(submission.batch_id) or earlier.get(submission.batch_id) or []
                submission.results = [AlertResult(**row) for row in rows]
        if time.monotonic() >= self._next_forget:
            self._next_forget = time.monotonic() + 3600
            await batches.forget_before(session, now - batches.KEEP)

    def _batch_span(
        self, batch: list[Submission], alerts: int
    ) -> AbstractContextManager[trace.Span]:
        """`ingest.batch`: a child of the first request's span, linked to the others',
        so every alert's trace reaches the transaction that stored it."""
        if not self.tracing.enabled:
            return self.tracing.tracer.start_as_current_span("ingest.batch")
        links = []
        for submission in batch[1:]:
            span_context = trace.get_current_span(submission.trace_context).get_span_context()
            if span_context.is_valid:
                links.append(trace.Link(span_context))
        return self.tracing.tracer.start_as_current_span(
            "ingest.batch",
            context=batch[0].trace_context,
            links=links,
            attributes={"alerts.count": alerts, "requests.count": len(batch)},
        )

    async def _write_chunk(
        self, session: AsyncSession, items: list[Item], now: datetime
    ) -> tuple[list[AlertResult], int]:
        """Store one chunk; returns its results and how many alerts it added."""
        keys = sorted({item.key for item in items})
        await lock_keys(session, _lock_ids(items))
        open_alerts = await store.firing_by_fingerprint(session, keys)
        results: list[AlertResult | None] = [None] * len(items)
        new_rows: dict[tuple[str, str], dict[str, Any]] = {}
        owners: dict[tuple[str, str], int] = {}  # the position that opened each new alert
        new_positions: list[int] = []
        repeats: dict[str, dict[str, Any]] = {}
        raises: dict[str, SeverityRaise] = {}
        to_ack: list[str] = []
        to_resolve: dict[str, str] = {}
        for position, item in enumerate(items):
            action = item.alert.action
            found = open_alerts.get(item.key)
            if action == "trigger" and found is not None:
                repeat = repeats.get(found[0])
                if repeat is None:
                    repeat = repeats[found[0]] = logic.repeat_update(found[0], found[2], now)
                logic.merge_sighting(repeat, item.alert, "new_")
                if repeat["new_severity"] != found[2]:
                    raises[found[0]] = SeverityRaise(
                        found[1], found[0], item.alert.title, repeat["new_severity"], item.actor
                    )
                results[position] = _result(found[0], found[1], item, True, "firing")
            elif action == "trigger" and item.key in new_rows:
                logic.merge_sighting(new_rows[item.key], item.alert)
                new_positions.append(position)
            elif action == "trigger":
                new_rows[item.key] = _row(item, now)
                owners[item.key] = position
                new_positions.append(position)
            elif found is None:
                results[position] = AlertResult(
                    alert_id=None,
                    incident_id=None,
                    deduplicated=False,
                    fingerprint=item.fingerprint,
                    status="ignored",
                )
            elif action == "acknowledge":
                to_ack.append(found[1])
                results[position] = _result(found[0], found[1], item, False, "firing")
            else:
                to_resolve[found[0]] = found[1]
                results[position] = _result(found[0], found[1], item, False, "resolved")
        if new_rows:
            await self._open(session, [items[p] for p in owners.values()], new_rows, now)
            for position in new_positions:
                row = new_rows[items[position].key]
                first = owners[items[position].key] == position
                results[position] = _result(
                    row["id"], row["incident_id"], items[position], not first, "firing"
                )
            await store.add(session, list(new_rows.values()))
        await store.add_repeats(session, list(repeats.values()))
        if raises:
            await self._incidents.raise_severity(session, list(raises.values()), now)
        if to_ack:
            await self._incidents.acknowledge_by_alert(session, to_ack, now, items[0].actor)
        if to_resolve:
            await store.resolve(session, sorted(to_resolve), now)
            affected = sorted(set(to_resolve.values()))
            cleared = set(affected) - await store.incidents_still_firing(session, affected)
            if cleared:
                await self._incidents.alerts_cleared(session, sorted(cleared), now, items[0].actor)
        return [r for r in results if r is not None], len(new_rows)

    async def _open(
        self,
        session: AsyncSession,
        owners: list[Item],
        new_rows: dict[tuple[str, str], dict[str, Any]],
        now: datetime,
    ) -> None:
        """Correlate the new alerts; `owners` are the items that opened them, in order.
        A new alert that a silence matches is tagged with it, and it and one of a service
        in maintenance open (or join) incidents that page nobody."""
        view = await self._quiet.view(session, now) if self._quiet is not None else None
        new_alerts = []
        for row, item in zip(new_rows.values(), owners, strict=True):
            service_id = item.route.service_id
            window = silence = None
            if view is not None:
                window = view.window_for(service_id, now)
                if view.has_silences:
                    silence = view.silence_for(
                        service_id, row["labels"], row["title"], row["severity"], row["source"], now
                    )
                    row["silence_id"] = silence
            new_alerts.append(
                NewAlert(
                    alert_id=row["id"],
                    service_id=service_id,
                    correlation_key=item.correlation_key,
                    window_seconds=item.route.correlation_window_seconds,
                    title=item.alert.title,
                    severity=row["severity"],  # the worst of its repeats in this batch
                    actor=item.actor,
                    escalation_policy_id=item.route.escalation_policy_id,
                    silence_id=silence,
                    maintenance_window_id=window,
                    hold_note=view.note(silence_id=silence, window_id=window) if view else None,
                )
            )
        incident_ids = await self._incidents.correlate(session, new_alerts, now)
        for row, incident_id in zip(new_rows.values(), incident_ids, strict=True):
            row["incident_id"] = incident_id


def _lock_ids(items: list[Item]) -> set[int]:
    """The locks a chunk takes, in one statement: each alert key (dedup), and the
    correlation key of each trigger (it may open or join an incident). Taking the
    correlation keys of triggers that turn out to be repeats too costs less than a
    second round trip once the new alerts are known."""
    ids = set()
    for item in items:
        ids.add(lock_id("alert", f"{item.key[0]}\x00{item.key[1]}"))
        if item.alert.action == "trigger":
            key = f"{item.route.service_id}\x00{item.correlation_key}"
            ids.add(lock_id("correlation", key))
    return ids


def _row(item: Item, now: datetime) -> dict[str, Any]:
    alert = item.alert
    return {
        "id": new_id(),
        "service_id": item.route.service_id,
        "incident_id": None,
        "fingerprint": item.fingerprint,
        "dedup_key": alert.dedup_key,
        "title": alert.title,
        "description": alert.description,
        "severity": alert.severity,
        "source": alert.source,
        "labels": alert.labels,
        "details": alert.details,
        "status": store.FIRING,
        "count": 1,
        "occurred_at": alert.occurred_at,
        "first_seen": now,
        "last_seen": now,
        "resolved_at": None,
        "silence_id": None,
    }


def _result(
    alert_id: str, incident_id: str, item: Item, deduplicated: bool, status: str
) -> AlertResult:
    return AlertResult(
        alert_id=alert_id,
        incident_id=incident_id,
        deduplicated=deduplicated,
        fingerprint=item.fingerprint,
        status=status,  # type: ignore[arg-type]
    )


def _no_count(service: str, deduplicated: Iterable[bool]) -> None:
    pass


def _fail(submission: Submission, exc: Exception) -> None:
    if not submission.done.done():
        submission.done.set_exception(exc)
