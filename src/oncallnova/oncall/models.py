"""Tables of the on-call domain: escalation policies, schedules, overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oncallnova.core.tables import Base, JsonType


class EscalationPolicy(Base):
    __tablename__ = "escalation_policies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    repeat: Mapped[int] = mapped_column(Integer)
    # [{"delay_seconds": int, "targets": [{"type": "user"|"schedule", "id": str}]}]
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Schedule(Base):
    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(String(64))
    # Ordered lowest to highest; each a dict of the layer fields (see schemas.LayerIn).
    layers: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    ical_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ScheduleOverride(Base):
    __tablename__ = "schedule_overrides"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    schedule_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    created_at: Mapped[datetime]
