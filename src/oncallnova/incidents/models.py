"""Tables of the incidents domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oncallnova.core.tables import Base, JsonType


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_open_key", "service_id", "correlation_key", "status"),
        Index("ix_incidents_created", "created_at"),
        Index("ix_incidents_status", "status"),
        Index("uq_incidents_number", "number", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # A short number per installation (#1, #2, ...) for people to say and type.
    number: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("services.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(1024))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    correlation_key: Mapped[str] = mapped_column(String(64))
    alert_count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    last_alert_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    mtta_seconds: Mapped[float | None] = mapped_column(Float)
    mttr_seconds: Mapped[float | None] = mapped_column(Float)
    # Escalation: a frozen copy of the service's policy taken when the incident opened,
    # where it stands (level index, -1 before the first page; round 0 = first pass),
    # how many paging steps ran, and when the next is due (NULL: nothing more to do).
    escalation_policy_id: Mapped[str | None] = mapped_column(String(36))
    escalation_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    escalation_level: Mapped[int] = mapped_column(Integer, default=-1)
    escalation_round: Mapped[int] = mapped_column(Integer, default=0)
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(index=True)
    # What holds its escalation now: a silence matching all its firing alerts, or a
    # maintenance window of its service. Kept once resolved, as a record.
    silence_id: Mapped[str | None] = mapped_column(String(36), index=True)
    maintenance_window_id: Mapped[str | None] = mapped_column(String(36), index=True)


class TimelineEntry(Base):
    __tablename__ = "incident_timeline"

    # An increasing integer, so entries written in the same instant keep their order.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    incident_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
