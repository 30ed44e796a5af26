"""incident numbers, sign-in sessions

Incidents get a short number per installation (#1, #2, ...), as responders say
"incident 482" rather than a UUID; existing incidents are numbered in the order they
opened. On PostgreSQL the numbers come from a sequence, so concurrent writers never
take the same one; SQLite has a single writer and takes the next after the highest.

Sign-in sessions become rows, so that signing out or changing a password ends them in
every process at once instead of leaving a token valid until it expires.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oncallnova.core.tables import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCIDENT_NUMBER_SEQUENCE = "incident_number_seq"


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE incidents SET number = (SELECT count(*) FROM incidents AS earlier"
        " WHERE earlier.created_at < incidents.created_at"
        " OR (earlier.created_at = incidents.created_at AND earlier.id <= incidents.id))"
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("uq_incidents_number", ["number"], unique=True)
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE {INCIDENT_NUMBER_SEQUENCE}")
        op.execute(
            f"SELECT setval('{INCIDENT_NUMBER_SEQUENCE}',"
            " (SELECT coalesce(max(number), 0) + 1 FROM incidents), false)"
        )

    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_user_id"))
    op.drop_table("auth_sessions")
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"DROP SEQUENCE IF EXISTS {INCIDENT_NUMBER_SEQUENCE}")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("uq_incidents_number")
        batch_op.drop_column("number")
