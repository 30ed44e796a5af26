"""Tables of silences and maintenance windows.

`phase` is what the engine has applied so far (a silence: pending, active, expired; a
window: scheduled, active, ended), so each start and end is acted on once, by one
engine, whatever the clock says about the row's times. `history` is the row's own trail
of who changed it, when and why, readable by everyone who may read the row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oncallnova.core.tables import Base, JsonType


class Silence(Base):
    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_phase_ends", "phase", "ends_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # [{"name", "op", "value"}], all of which must match (AND).
    matchers: Mapped[list[dict[str, str]]] = mapped_column(JsonType)
    service_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    comment: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    phase: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    history: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)


class MaintenanceWindow(Base):
    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_phase_ends", "phase", "ends_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # None, "daily" or "weekly": when it ends, the window moves to its next occurrence.
    recurrence: Mapped[str | None] = mapped_column(String(16))
    # The zone whose wall clock a recurring window keeps (09:00 stays 09:00 across DST).
    time_zone: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    history: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)


class MaintenanceWindowService(Base):
    __tablename__ = "maintenance_window_services"

    window_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("maintenance_windows.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True
    )
