"""Tables of the alerts domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from oncallnova.core.tables import Base, JsonType


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # At most one open alert per fingerprint and service: repeats update it.
        # Fingerprint first: PostgreSQL then always looks up by it, even when its
        # statistics still describe the table as small (an alert storm into a new service).
        Index(
            "uq_alerts_open_fingerprint",
            "fingerprint",
            "service_id",
            unique=True,
            sqlite_where=text("status = 'firing'"),
            postgresql_where=text("status = 'firing'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("services.id", ondelete="CASCADE")
    )
    incident_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(255))
    dedup_key: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(1024))
    labels: Mapped[dict[str, str]] = mapped_column(JsonType)
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime | None]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    # The silence that matched when it arrived (or when the silence began): it paged nobody.
    silence_id: Mapped[str | None] = mapped_column(String(36))


class IngestBatch(Base):
    """A batch of alerts handed over with an idempotency key (over gRPC's `Ingest` or
    `IngestStream`), and what became of its alerts: a retry of the same batch after a
    lost reply gets these results back and stores nothing again. Kept for a day."""

    __tablename__ = "ingest_batches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    results: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(index=True)


class AlertRequest(Base):
    """The outcome of one request a sender may poll for afterwards (Opsgenie's request
    status): kept for a day, then pruned."""

    __tablename__ = "alert_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("services.id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(32))
    success: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(500))
    alert_id: Mapped[str | None] = mapped_column(String(36))
    alias: Mapped[str | None] = mapped_column(String(512))
    processed_at: Mapped[datetime] = mapped_column(index=True)


class IntegrationBeat(Base):
    """The last heartbeat an integration of a service sent (Grafana OnCall's
    `<type>/<token>/heartbeat/` URL), and how many it has sent."""

    __tablename__ = "integration_beats"

    service_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_beat_at: Mapped[datetime]
    last_beat_at: Mapped[datetime]
    beats: Mapped[int] = mapped_column(Integer)
