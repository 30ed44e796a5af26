"""Tables of the service catalogue: services and their integration keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oncallnova.core.tables import Base, JsonType


class Service(Base):
    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    correlation_key: Mapped[list[Any]] = mapped_column(JsonType)
    correlation_window_seconds: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    escalation_policy_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("escalation_policies.id", ondelete="SET NULL")
    )
    # An acknowledged incident not resolved within this goes back to triggered; an open
    # incident without a new alert for `auto_resolve_seconds` resolves itself. None: off.
    ack_timeout_seconds: Mapped[int | None] = mapped_column(Integer)
    auto_resolve_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class IntegrationKey(Base):
    __tablename__ = "integration_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
