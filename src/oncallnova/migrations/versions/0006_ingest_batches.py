"""ingest batches: idempotency keys of batches handed over by the ingestion role;
the trace of each notification

The `ingestion` role hands each request's alerts to `incidents` over gRPC with a batch id
and retries the call when the reply is lost. The writer records each batch id with its
results in the transaction that stores the alerts, so a retry stores nothing twice and
gets the first results back. Rows older than a day are deleted by the writer.

A notification keeps the W3C traceparent of the change that queued it, so that its
delivery, by an engine in another process and later, is part of the same trace.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from oncallnova.core.tables import JsonType, UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("results", JsonType, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
    )
    op.create_index(
        op.f("ix_ingest_batches_created_at"), "ingest_batches", ["created_at"], unique=False
    )

    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("trace_parent", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("trace_parent")
    op.drop_index(op.f("ix_ingest_batches_created_at"), table_name="ingest_batches")
    op.drop_table("ingest_batches")
