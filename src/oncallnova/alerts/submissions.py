"""What the ingestion writer queues: each request's alerts as items ready to store, and
the submission that waits for their results; and how a writer's batch of submissions
is divided before it is stored."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from opentelemetry import context as otel_context

from oncallnova.alerts import logic
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertResult
from oncallnova.services.api import ServiceRoute


@dataclass(slots=True)
class Item:
    """One alert of one request, ready to store."""

    route: ServiceRoute
    alert: NormalizedAlert
    fingerprint: str
    correlation_key: str
    actor: str
    key: tuple[str, str]  # (service, fingerprint): what dedup compares


@dataclass(slots=True)
class Submission:
    items: list[Item]
    done: asyncio.Future[list[AlertResult]]
    results: list[AlertResult] = field(default_factory=list)
    # The submitting request's trace context, so the batch span can join its trace.
    trace_context: otel_context.Context | None = None
    # The caller's idempotency key, if it sent one (see `batches.py`); `replay` is set
    # when the batch had been stored before and `results` are that first delivery's.
    batch_id: str | None = None
    replay: bool = False
    # Set once the batch id was found recorded by an earlier delivery (it stays so).
    recorded_before: bool = False


def items(route: ServiceRoute, alerts: list[NormalizedAlert], actor: str) -> list[Item]:
    items = []
    for alert in alerts:
        fingerprint = logic.fingerprint(alert)
        correlation_key = logic.correlation_key(route.correlation_key, route.service_id, alert)
        key = (route.service_id, fingerprint)
        items.append(Item(route, alert, fingerprint, correlation_key, actor, key))
    return items


def fresh(batch: list[Submission]) -> list[Submission]:
    """The submissions to store: those without a batch id, and the first of each batch id
    not found stored by an earlier delivery. The others are replays."""
    fresh = []
    seen: set[str] = set()
    for submission in batch:
        submission.replay = submission.batch_id is not None and (
            submission.recorded_before or submission.batch_id in seen
        )
        if not submission.replay:
            fresh.append(submission)
        if submission.batch_id is not None:
            seen.add(submission.batch_id)
    return fresh


def chunks(items: list[Item]) -> list[list[Item]]:
    """Split so that each chunk can be stored in bulk with the same outcome as one by one.

    Within a chunk a (service, fingerprint) appears once, or only as repeated triggers.
    """
    chunks: list[list[Item]] = []
    current: list[Item] = []
    seen: dict[tuple[str, str], bool] = {}
    for item in items:
        only_triggers = seen.get(item.key)
        if only_triggers is not None and not (only_triggers and item.alert.action == "trigger"):
            chunks.append(current)
            current, seen = [], {}
        current.append(item)
        seen[item.key] = item.alert.action == "trigger" and seen.get(item.key, True)
    if current:
        chunks.append(current)
    return chunks
