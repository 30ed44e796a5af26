"""open-alert index: fingerprint first

The unique index on open alerts was (service_id, fingerprint). With statistics taken
while a service had few alerts, PostgreSQL searched it by service only and filtered the
fingerprints, reading every open alert of the service per ingestion batch. Leading with
the fingerprint makes the lookup one index descent per fingerprint on both databases.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "uq_alerts_open_fingerprint"
_OPEN = sa.text("status = 'firing'")


def _recreate(columns: list[str]) -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(_NAME, sqlite_where=_OPEN, postgresql_where=_OPEN)
        batch_op.create_index(
            _NAME, columns, unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN
        )


def upgrade() -> None:
    _recreate(["fingerprint", "service_id"])


def downgrade() -> None:
    _recreate(["service_id", "fingerprint"])
