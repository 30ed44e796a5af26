"""Tables of people: users and teams."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oncallnova.core.tables import Base, JsonType


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    contact_methods: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    # How a page walks through the contact methods, and the shift reminders asked for;
    # both name contact methods by their id (see users/contact_schemas.py).
    notification_rules: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    shift_reminders: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    ical_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
