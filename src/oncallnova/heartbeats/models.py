"""The heartbeat monitor table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oncallnova.core.tables import Base


class HeartbeatMonitor(Base):
    __tablename__ = "heartbeat_monitors"
    __table_args__ = (
        UniqueConstraint("service_id", "name"),
        # The engine's question: which running monitors are past their deadline?
        Index("ix_heartbeat_monitors_due", "state", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    interval_seconds: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(16))
    # The secret in the beat URL; it is the only credential a beat needs.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # inactive (never beat), up (beating), expired (its alert is open).
    state: Mapped[str] = mapped_column(String(16))
    last_beat_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
