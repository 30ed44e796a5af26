"""The schema and the queries ingestion depends on, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Select, event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from oncallnova.alerts import store
from oncallnova.core.authz import SYSTEM
from oncallnova.core.tables import Base
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.models import load_all_models
from tests.conftest import new_service


async def test_migrations_build_the_schema_the_models_describe(rt: Runtime) -> None:
    load_all_models()

    def differences(sync_conn: Any) -> list[Any]:
        return compare_metadata(MigrationContext.configure(sync_conn), Base.metadata)

    async with rt.db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def _plan(conn: AsyncConnection, query: Select[Any]) -> str:
    """The database's plan for `query` with its values bound as parameters, as
    ingestion sends it (not written into the SQL)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = tuple(compiled.params[name] for name in compiled.positiontup or [])
    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    rows = (await conn.exec_driver_sql(prefix + compiled.string, params)).all()
    return "\n".join(str(part) for row in rows for part in row)


async def _analyze_count(rt: Runtime) -> int:
    query = text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'alerts'")
    async with rt.db.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def test_open_alert_lookup_reads_the_index_after_a_storm(
    rt: Runtime, client: httpx.AsyncClient
) -> None:
    """3,000 alerts into a new service within seconds: the dedup lookup of each batch
    still finds open alerts through the index, not by reading every alert of the service,
    and on PostgreSQL the ingestion refreshed the planner's statistics itself (autovacuum
    would wait up to a minute; plans made for the empty table would be kept until then)."""
    analyzed = await _analyze_count(rt) if rt.db.is_postgres else 0
    service = await new_service(client)
    headers = {"X-Routing-Key": service["key"]}
    for request in range(30):
        alerts = [
            {"title": f"storm {request}-{n}", "severity": "high", "dedup_key": f"s{request}-{n}"}
            for n in range(100)
        ]
        response = await client.post("/api/v1/alerts", json=alerts, headers=headers)
        assert response.status_code == 202, response.text
    if rt.db.is_postgres:
        for _ in range(100):  # the statistics view lags the ANALYZE by up to a second
            if await _analyze_count(rt) > analyzed:
                break
            await asyncio.sleep(0.1)
        assert await _analyze_count(rt) > analyzed
    query = store.firing_query(service["id"], ["s3-7", "s29-99", "unknown"])
    async with rt.db.engine.connect() as conn:
        plan = await _plan(conn, query)
    # Searched by fingerprint: not every open alert of the service read and filtered.
    searched = [line for line in plan.splitlines() if "Index Cond" in line or "SEARCH" in line]
    assert "uq_alerts_open_fingerprint" in plan, plan
    assert any("fingerprint" in line for line in searched), plan
    assert "Seq Scan" not in plan and "SCAN alerts" not in plan, plan
    async with rt.db.read() as session:
        rows = (await session.execute(query)).all()
    assert sorted(row.fingerprint for row in rows) == ["s29-99", "s3-7"]


async def test_concurrent_requests_share_one_key_lookup(
    rt: Runtime, client: httpx.AsyncClient
) -> None:
    """When a cached integration key expires under load, the waiting requests share one
    query instead of each taking a database connection."""
    service = await new_service(client)
    lookups = 0

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal lookups
        if "FROM integration_keys" in statement:
            lookups += 1

    event.listen(rt.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        routes = await asyncio.gather(
            *(rt.services.route_for_key(service["key"]) for _ in range(25))
        )
    finally:
        event.remove(rt.db.engine.sync_engine, "before_cursor_execute", count)
    assert lookups == 1
    assert {route.service_id for route in routes if route is not None} == {service["id"]}
    assert all(route is not None for route in routes)

    key_id = service["integration_keys"][0]["id"]
    await rt.services.revoke_key(SYSTEM, service["id"], key_id)
    assert await rt.services.route_for_key(service["key"]) is None
