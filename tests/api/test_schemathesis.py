"""Every operation of the OpenAPI document, fed generated input (valid and invalid) by
schemathesis, against a real server process on PostgreSQL: no answer may be a 5xx.

Bad input must be a 4xx that names it, never an outage answer that makes senders retry
forever. The pass is bounded (a few examples per operation and mode) so that it stays a
test; every operation's first 5xx is reported with a curl command that reproduces it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.conftest import PG_ADMIN_DSN, need_service
from tests.system.servers import Server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

# Per operation and generation mode; raise it for a deeper pass by hand.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
# Ingestion is authenticated by an integration key: the pass sends a real one, so that
# generated alerts reach validation and storage instead of stopping at 401.
KEYED = {"/api/v1/alerts", "/api/v1/integrations/alertmanager"}


async def _database(statement: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    name = f"ocn_schemathesis_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_database(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        need_service("PostgreSQL", exc)
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    env = {
        "DATABASE_URL": PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}",
        "ONCALLNOVA_DATA_DIR": str(tmp),
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "ERROR",
    }
    running = Server(env, tmp / "server.log").start(timeout=90)
    try:
        yield running
    finally:
        running.stop()
        asyncio.run(_database(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def seed(server: Server) -> str:
    """A service with an open incident, so that lists and lookups have rows to read;
    returns its integration key."""
    created = httpx.post(
        f"{server.url}/api/v1/services", headers=server.headers, json={"name": "fuzzed"}
    )
    created.raise_for_status()
    key: str = created.json()["integration_keys"][0]["key"]
    sent = httpx.post(
        f"{server.url}/api/v1/alerts",
        headers={"X-Routing-Key": key},
        json={"title": "disk full", "severity": "high", "labels": {"host": "db1"}},
    )
    assert sent.status_code == 202, sent.text
    return key


def test_no_operation_answers_a_server_error(server: Server) -> None:
    key = seed(server)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    failures: dict[str, str] = {}
    session = requests.Session()

    def send(case: Any) -> None:
        if case.path in KEYED:
            case.headers = {**(case.headers or {}), "X-Routing-Key": key}
        if case.path == "/v2/enqueue" and isinstance(case.body, dict):
            case.body["routing_key"] = key
        response = case.call(base_url=server.url, session=session, headers=server.headers)
        label = f"{case.method} {case.path}"
        if response.status_code >= 500 and label not in failures:
            failures[label] = (
                f"{response.status_code} {response.text[:300]}\n    "
                + case.as_curl_command(headers=server.headers)
            )

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: Any) -> None:
                send(case)

            try:
                run()
            except Unsatisfiable:
                # An operation without parameters or body has no invalid input to send.
                assert mode is GenerationMode.NEGATIVE, operation.label
    session.close()
    assert not failures, "server errors:\n" + "\n".join(f"{k}: {v}" for k, v in failures.items())
