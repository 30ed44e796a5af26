"""Upgrading to migration 0008 keeps what an installation had: each contact method gets
an id, webhooks keep today's signed JSON, and pages written before become page rows
(their rules done), so incidents still show who was paged. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from oncallnova.core.db import Database
from oncallnova.runtime.migrate import upgrade
from oncallnova.settings import Settings
from tests.conftest import PG_ADMIN_DSN, need_service

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"ocn_upgrade_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        need_service("PostgreSQL", exc)
    await admin.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def _filled(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """`values`, with a plain value in every other column that needs one."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.autoincrement is True or (column.primary_key and "seq" in column.name):
            continue
        kind = column.type
        if isinstance(kind, sa.Boolean):
            row[column.name] = False
        elif isinstance(kind, (sa.Integer, sa.Float, sa.Numeric)):
            row[column.name] = 0
        elif isinstance(kind, (sa.DateTime, sa.TIMESTAMP)):
            row[column.name] = NOW
        elif isinstance(kind, sa.JSON) or "JSON" in type(kind).__name__.upper():
            row[column.name] = {}
        else:
            row[column.name] = uuid.uuid4().hex[: min(getattr(kind, "length", None) or 12, 12)]
    return row


async def test_upgrade_gives_ids_keeps_webhooks_and_copies_pages(empty_database: str) -> None:
    db = Database(Settings(DATABASE_URL=empty_database).resolved_database_url())
    try:
        await upgrade(db, "0005")
        async with db.write_engine.begin() as conn:
            meta = sa.MetaData()
            await conn.run_sync(meta.reflect)
            rows: list[tuple[str, dict[str, Any]]] = [
                (
                    "users",
                    {
                        "id": "u1",
                        "email": "ann@example.com",
                        "contact_methods": [{"type": "email", "address": "ann@example.com"}],
                    },
                ),
                ("services", {"id": "s1", "name": "checkout"}),
                ("incidents", {"id": "i1", "service_id": "s1", "number": 1}),
                ("webhooks", {"id": "w1", "events": [], "service_ids": [], "headers": {}}),
            ]
            for step in (1, 1, 2):  # a page and its retry copy share (incident, step, user)
                notification = {
                    "id": str(uuid.uuid4()),
                    "incident_id": "i1",
                    "channel": "email",
                    "destination": "u1",
                    "kind": "page",
                    "step": step,
                    "level": step - 1,
                    "round": 0,
                    "reason": f"level {step}",
                    "payload": {"to": "ann@example.com", "user_name": "Ann"},
                    "status": "sent",
                    "created_at": NOW,
                    "next_attempt_at": NOW,
                }
                rows.append(("notifications", notification))
            for name, values in rows:
                table = meta.tables[name]
                await conn.execute(table.insert().values(**_filled(table, values)))
        await upgrade(db)
        async with db.engine.connect() as conn:
            methods = (await conn.execute(sa.text("SELECT contact_methods FROM users"))).scalar()
            hook = (await conn.execute(sa.text("SELECT format FROM webhooks"))).scalar()
            pages = (
                await conn.execute(
                    sa.text("SELECT user_id, step, level, next_at FROM pages ORDER BY step")
                )
            ).all()
    finally:
        await db.dispose()
    if isinstance(methods, str):  # SQLite's JSON comes back as text through text()
        methods = json.loads(methods)
    [method] = methods
    assert method["address"] == "ann@example.com" and method["id"]
    assert hook == "oncallnova"
    assert [(p.user_id, p.step, p.level, p.next_at) for p in pages] == [
        ("u1", 1, 0, None),
        ("u1", 2, 1, None),
    ]
