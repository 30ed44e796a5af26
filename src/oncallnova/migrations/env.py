"""Alembic environment: one history for SQLite and PostgreSQL.

OnCallNova runs migrations from its own code (`oncallnova db upgrade` and on `serve`
start), passing an open connection in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context

from oncallnova.core.tables import Base
from oncallnova.runtime.models import load_all_models

load_all_models()

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `oncallnova db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
