"""contact methods with ids, notification rules, shift reminders, pages, webhook formats

A page becomes a row of its own (`pages`): who was paged for which escalation step,
and how far that person's notification rules have got, so the engine can fire the
next rule when it is due and an acknowledgement can stop them. Pages written before
this revision are copied from the outbox, their rules already done.

Contact methods get ids (rules and reminders name them); users get their notification
rules and shift reminders; webhooks get the `format` of their body.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from oncallnova.core.tables import JsonType, UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    op.add_column(
        "webhooks",
        sa.Column("format", sa.String(length=16), nullable=False, server_default="oncallnova"),
    )
    for column in ("notification_rules", "shift_reminders"):
        op.add_column("users", sa.Column(column, JsonType, nullable=False, server_default="[]"))

    bind = op.get_bind()
    users = sa.table("users", sa.column("id", sa.String), sa.column("contact_methods", JsonType))
    for user_id, methods in bind.execute(sa.select(users.c.id, users.c.contact_methods)).all():
        named = [{"id": m.get("id") or str(uuid.uuid4()), **m} for m in _json(methods) or []]
        bind.execute(users.update().where(users.c.id == user_id).values(contact_methods=named))

    op.create_table(
        "pages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", JsonType, nullable=False),
        sa.Column("rules", JsonType, nullable=False),
        sa.Column("next_rule", sa.Integer(), nullable=False),
        sa.Column("next_at", UtcDateTime(), nullable=True),
        sa.Column("stopped_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_pages_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("incident_id", "step", "user_id", name=op.f("uq_pages_incident_id")),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index("ix_pages_next_at", ["next_at"], unique=False)

    outbox = sa.table(
        "notifications",
        *(sa.column(c) for c in ("incident_id", "destination", "step", "level", "round")),
        sa.column("reason"),
        sa.column("payload", JsonType),
        sa.column("created_at", UtcDateTime()),
        sa.column("kind"),
    )
    pages = sa.table(
        "pages",
        *(sa.column(c) for c in ("id", "incident_id", "user_id", "step", "level", "round")),
        sa.column("reason"),
        sa.column("payload", JsonType),
        sa.column("rules", JsonType),
        sa.column("next_rule"),
        sa.column("next_at", UtcDateTime()),
        sa.column("stopped_at", UtcDateTime()),
        sa.column("created_at", UtcDateTime()),
    )
    seen: set[tuple[str, int, str]] = set()
    query = sa.select(outbox).where(outbox.c.kind == "page").order_by(outbox.c.created_at)
    for row in bind.execute(query).all():
        key = (row.incident_id, row.step, row.destination)
        if row.incident_id is None or key in seen:
            continue
        seen.add(key)
        payload = _json(row.payload) or {}
        bind.execute(
            pages.insert().values(
                id=str(uuid.uuid4()),
                incident_id=row.incident_id,
                user_id=row.destination,
                step=row.step,
                level=row.level,
                round=row.round,
                reason=row.reason,
                payload={k: v for k, v in payload.items() if k != "to"},
                rules=[],
                next_rule=0,
                next_at=None,
                stopped_at=None,
                created_at=row.created_at,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index("ix_pages_next_at")
    op.drop_table("pages")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("shift_reminders")
        batch_op.drop_column("notification_rules")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_column("format")
