"""alert request outcomes, integration heartbeats

Senders that poll for the outcome of what they sent (Opsgenie's request status) find it
in `alert_requests`, kept for a day. `integration_beats` holds the last heartbeat each
integration of a service sent to its Grafana OnCall heartbeat URL.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oncallnova.core.tables import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=500), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=True),
        sa.Column("alias", sa.String(length=512), nullable=True),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_alert_requests_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_requests")),
    )
    with op.batch_alter_table("alert_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_requests_processed_at"), ["processed_at"], unique=False
        )
    op.create_table(
        "integration_beats",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("first_beat_at", UtcDateTime(), nullable=False),
        sa.Column("last_beat_at", UtcDateTime(), nullable=False),
        sa.Column("beats", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_integration_beats_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "kind", name=op.f("pk_integration_beats")),
    )


def downgrade() -> None:
    op.drop_table("integration_beats")
    with op.batch_alter_table("alert_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_requests_processed_at"))
    op.drop_table("alert_requests")
