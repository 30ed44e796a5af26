"""The notification outbox: one row per message to send, written in the same
transaction as the change that caused it; every send attempt is recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from oncallnova.core.tables import Base, JsonType

Serial = BigInteger().with_variant(Integer(), "sqlite")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_stream", "destination", "incident_id", "seq"),
        Index("ix_notifications_incident", "incident_id", "kind"),
    )

    # Increasing: deliveries to one destination for one incident go out in this order.
    seq: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)  # the delivery id
    incident_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("incidents.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str | None] = mapped_column(String(64))
    # Pages carry one, so a step pages each user once however many engines race.
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    step: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)
    round: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # The W3C traceparent of the change that queued it: its delivery joins that trace.
    trace_parent: Mapped[str | None] = mapped_column(String(64))


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    duration_ms: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))  # sent | retry | failed
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JsonType)
    service_ids: Mapped[list[str]] = mapped_column(JsonType)  # empty: every service
    headers: Mapped[dict[str, str]] = mapped_column(JsonType)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # The body sent: "oncallnova" (signed event JSON), "slack", "mattermost" or "teams".
    format: Mapped[str] = mapped_column(String(16), default="oncallnova")
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128))
    previous_secret_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PageRow(Base):
    """A user paged for one escalation step, and how far their notification rules got.

    `rules` is the user's rules as they were when paged (every contact method at once
    when they had none): [{"contact_method_id", "delay_minutes"}], by delay. The engine
    fires rule `next_rule` at `next_at` and moves on; `next_at` is None once every rule
    fired or when an acknowledgement stopped them (`stopped_at`).
    """

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("incident_id", "step", "user_id"),
        Index("ix_pages_next_at", "next_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("incidents.id", ondelete="CASCADE")
    )
    user_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    next_rule: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
