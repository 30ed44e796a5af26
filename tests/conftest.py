"""Shared fixtures: a complete OnCallNova per test, on SQLite and on PostgreSQL.

PostgreSQL tests use the server at 127.0.0.1:5432 (database `test` to create their own
database). Locally they are skipped when it is not reachable; with CI=true they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from oncallnova.core.authz import SYSTEM
from oncallnova.core.clock import FakeClock
from oncallnova.core.tables import Base
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.models import load_all_models
from oncallnova.settings import Settings
from oncallnova.transport.http.app import Host, create_app
from oncallnova.users.schemas import UserIn

if TYPE_CHECKING:
    from tests.support.postgres import OwnPostgres

PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


# Whole folders of tests that start servers, a browser or the operator's command line as
# processes: marked `slow`, run by `make test-system` rather than `make test`.
SYSTEM_FOLDERS = frozenset({"e2e", "system", "operator"})
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(TESTS).parts[0] in SYSTEM_FOLDERS:
            item.add_marker(pytest.mark.slow)


def need_service(name: str, error: BaseException) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{name} is required under CI=true but unreachable: {error}")
    pytest.skip(f"{name} unreachable (outside CI a missing service skips): {error}")


async def _pg_available() -> BaseException | None:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return exc
    await conn.close()
    return None


async def _create_database(name: str) -> str:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    rt = Runtime(Settings(DATABASE_URL=url))
    await rt.start()
    await rt.stop()
    return url


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    error = asyncio.run(_pg_available())
    if error is not None:
        need_service("PostgreSQL", error)
    name = f"ocn_test_{uuid.uuid4().hex[:10]}"
    url = asyncio.run(_create_database(name))
    yield url
    asyncio.run(_drop_database(name))


@pytest.fixture
def own_pg() -> Iterator[OwnPostgres]:
    """A PostgreSQL server of this test's own, on its own port, which the test may stop
    and start (never the shared one)."""
    from tests.support.postgres import OwnPostgres  # it imports this module

    server = OwnPostgres().init()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
async def fresh_pg(pg_database: str) -> str:
    """The session's PostgreSQL database with every table emptied: a server started on
    it creates its admin from ONCALLNOVA_ADMIN_EMAIL/PASSWORD, as on a first start."""
    load_all_models()
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    conn = await asyncpg.connect(pg_database)
    await conn.execute(f"TRUNCATE {names} CASCADE")
    await conn.close()
    return pg_database


async def truncate_all(rt: Runtime) -> None:
    load_all_models()
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with rt.db.write() as session:
        await session.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'oncallnova.db'}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


RuntimeFactory = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def make_runtime(
    database_url: str, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[RuntimeFactory]:
    started: list[Runtime] = []

    async def factory(**env: Any) -> Runtime:
        settings = Settings(DATABASE_URL=database_url, ONCALLNOVA_DATA_DIR=str(tmp_path), **env)
        rt = Runtime(settings, clock=clock)
        await rt.start(engine=False)  # tests drive the engine with the fake clock
        if rt.db.is_postgres and not started:
            await truncate_all(rt)
        started.append(rt)
        return rt

    yield factory
    for rt in started:
        await rt.stop()


@pytest.fixture
async def rt(make_runtime: RuntimeFactory) -> Runtime:
    return await make_runtime()


ADMIN_PASSWORD = "admin-password-for-tests"


async def sign_in(rt: Runtime, email: str, role: str = "admin", name: str | None = None) -> str:
    """Create a user with `role` and return a bearer token for them."""
    data = UserIn(name=name or role.title(), email=email, role=role)  # type: ignore[arg-type]
    user_id = await rt.auth.create_user(SYSTEM, data, ADMIN_PASSWORD)
    return (await rt.auth.issue(user_id)).access_token


# The host an app made for a runtime is built over instead of the runtime itself, when a
# test registers one: tests/web/conftest.py registers the split `web` role's (gRPC
# clients of the runtime), so each page test runs over gRPC too.
REMOTE_HOSTS: dict[int, Host] = {}


@asynccontextmanager
async def api_client(rt: Runtime, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app of `rt`; signed in as a new admin unless given a token."""
    app = create_app(REMOTE_HOSTS.get(id(rt), rt), manage_runtime=False)
    if token is None:
        token = await sign_in(rt, f"admin-{uuid.uuid4().hex[:8]}@example.com", name="Admin")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers
    ) as http:
        yield http


@pytest.fixture
async def client(rt: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(rt) as http:
        yield http


async def new_service(
    client: httpx.AsyncClient, name: str = "checkout", **fields: Any
) -> dict[str, Any]:
    response = await client.post("/api/v1/services", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    body["key"] = body["integration_keys"][0]["key"]
    return body
