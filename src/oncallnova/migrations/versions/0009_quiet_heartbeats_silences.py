"""heartbeat monitors, maintenance windows, silences, acknowledgement timeout

Heartbeat monitors belong to a service and open an alert there when their beats stop.
Maintenance windows (with the services they cover) and silences (label matchers) hold
paging: the alerts they cover are stored, and the incidents they hold page nobody.
Alerts record the silence that matched them; incidents record what holds them now.
Services may set an acknowledgement timeout and an auto-resolve delay.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oncallnova.core.tables import JsonType, UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("history", JsonType, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "heartbeat_monitors",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_beat_at", UtcDateTime(), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("expired_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_heartbeat_monitors_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeat_monitors")),
        sa.UniqueConstraint("service_id", "name", name=op.f("uq_heartbeat_monitors_service_id")),
        sa.UniqueConstraint("token", name=op.f("uq_heartbeat_monitors_token")),
    )
    with op.batch_alter_table("heartbeat_monitors", schema=None) as batch_op:
        batch_op.create_index("ix_heartbeat_monitors_due", ["state", "expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_heartbeat_monitors_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "silences",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("matchers", JsonType, nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_silences_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silences")),
    )
    with op.batch_alter_table("silences", schema=None) as batch_op:
        batch_op.create_index("ix_silences_phase_ends", ["phase", "ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_silences_service_id"), ["service_id"], unique=False)

    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("recurrence", sa.String(length=16), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
    )
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_maintenance_windows_phase_ends", ["phase", "ends_at"], unique=False
        )
    op.create_table(
        "maintenance_window_services",
        sa.Column("window_id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["maintenance_windows.id"],
            name=op.f("fk_maintenance_window_services_window_id_maintenance_windows"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_maintenance_window_services_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "window_id", "service_id", name=op.f("pk_maintenance_window_services")
        ),
    )
    with op.batch_alter_table("maintenance_window_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maintenance_window_services_service_id"), ["service_id"], unique=False
        )

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("silence_id", sa.String(length=36), nullable=True))
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("silence_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("maintenance_window_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_incidents_silence_id"), ["silence_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_incidents_maintenance_window_id"),
            ["maintenance_window_id"],
            unique=False,
        )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ack_timeout_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("auto_resolve_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("auto_resolve_seconds")
        batch_op.drop_column("ack_timeout_seconds")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_maintenance_window_id"))
        batch_op.drop_index(batch_op.f("ix_incidents_silence_id"))
        batch_op.drop_column("maintenance_window_id")
        batch_op.drop_column("silence_id")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("silence_id")
    op.drop_table("maintenance_window_services")
    op.drop_table("maintenance_windows")
    op.drop_table("silences")
    op.drop_table("heartbeat_monitors")
