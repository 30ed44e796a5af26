"""Queries of the notification outbox and webhooks. Takes a session; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from oncallnova.core.tracing import current_traceparent
from oncallnova.core.upsert import insert_ignoring_duplicates
from oncallnova.notify.models import DeliveryAttempt, Notification, Webhook

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


async def add(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows; pages (rows with a dedup_key) already written are skipped.
    Each row keeps the trace being recorded now (if any), so that its delivery, by an
    engine later and maybe in another process, joins the trace of what queued it."""
    parent = current_traceparent()
    for row in rows:
        row["trace_parent"] = row.get("trace_parent") or parent
    keyed = [r for r in rows if r.get("dedup_key")]
    plain = [r for r in rows if not r.get("dedup_key")]
    if plain:
        await session.execute(insert(Notification), plain)
    added = len(plain)
    if keyed:
        added += await insert_ignoring_duplicates(
            session, Notification.__table__, keyed, ["dedup_key"]
        )
    return added


async def existing_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """The dedup keys among `keys` that rows already have."""
    if not keys:
        return set()
    query = select(Notification.dedup_key).where(Notification.dedup_key.in_(keys))
    return {str(k) for k in (await session.execute(query)).scalars()}


async def for_incident(
    session: AsyncSession, incident_id: str, kind: str | None = None
) -> list[Notification]:
    query = select(Notification).where(Notification.incident_id == incident_id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list((await session.execute(query.order_by(Notification.seq))).scalars())


def _sendable(now: datetime) -> ColumnElement[bool]:
    """Due rows whose earlier siblings (same destination and incident) are all done.

    A row is due when pending and its retry time has come, or when another dispatcher
    took it and its lease ran out (that dispatcher died).
    """
    earlier = aliased(Notification)
    due = or_(
        and_(Notification.status == PENDING, Notification.next_attempt_at <= now),
        and_(Notification.status == SENDING, Notification.lease_until <= now),
    )
    blocked = exists().where(
        earlier.destination == Notification.destination,
        or_(
            earlier.incident_id == Notification.incident_id,
            and_(earlier.incident_id.is_(None), Notification.incident_id.is_(None)),
        ),
        earlier.seq < Notification.seq,
        earlier.status.in_((PENDING, SENDING)),
    )
    return and_(due, ~blocked)


async def any_due(session: AsyncSession, now: datetime) -> bool:
    """Is anything ready to send? (A cheap read.) A row waiting behind an earlier one of
    its stream is not: while that one waits for its retry, polls find nothing to do."""
    query = select(Notification.seq).where(_sendable(now)).limit(1)
    return (await session.execute(query)).first() is not None


async def claim(
    session: AsyncSession,
    now: datetime,
    limit: int,
    lease_until: datetime,
    per_destination: int | None = None,
) -> list[Notification]:
    """Rows ready to send (see `_sendable`), oldest first; claimed rows are leased.

    With `per_destination`, no destination gets more rows than that in flight, counting
    the ones any dispatcher is sending now: a receiver with many incidents' streams, and
    slow, cannot take every sending slot from the others.
    """
    sendable = _sendable(now)
    if per_destination is not None:
        sending = aliased(Notification)
        in_flight = (
            select(func.count())
            .where(
                sending.destination == Notification.destination,
                sending.status == SENDING,
                sending.lease_until > now,
            )
            .scalar_subquery()
        )
        turn = func.row_number().over(
            partition_by=Notification.destination, order_by=Notification.seq
        )
        ranked = select(Notification.id, (turn + in_flight).label("slot")).where(sendable)
        ranked_rows = ranked.subquery()
        sendable = Notification.id.in_(
            select(ranked_rows.c.id).where(ranked_rows.c.slot <= per_destination)
        )
    query = (
        select(Notification)
        .where(sendable)
        .order_by(Notification.seq)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Notification)
    )
    rows = list((await session.execute(query)).scalars())
    for row in rows:
        row.status = SENDING
        row.lease_until = lease_until
        row.attempts += 1
    return rows


async def finish(
    session: AsyncSession,
    notification_id: str,
    attempt: int,
    values: dict[str, Any],
    record: dict[str, Any],
) -> None:
    """Store an attempt's result, unless another dispatcher has taken the row since."""
    await session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.attempts == attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.execute(insert(DeliveryAttempt), [record])


async def webhooks(session: AsyncSession, enabled_only: bool = False) -> list[Webhook]:
    query = select(Webhook).order_by(Webhook.created_at, Webhook.id)
    if enabled_only:
        query = query.where(Webhook.enabled.is_(True))
    return list((await session.execute(query)).scalars())


async def attempts_of_webhook(
    session: AsyncSession, webhook_id: str, limit: int
) -> list[tuple[DeliveryAttempt, Notification]]:
    query = (
        select(DeliveryAttempt, Notification)
        .join(Notification, Notification.id == DeliveryAttempt.notification_id)
        .where(Notification.channel == "webhook", Notification.destination == webhook_id)
        .order_by(DeliveryAttempt.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]
