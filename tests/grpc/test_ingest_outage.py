"""PostgreSQL goes away under the incidents role while a front end hands it batches over
`IngestStream`: the front end's senders get the outage (Unavailable, a 503) within the
retries' few seconds, not after the stream's 10 s deadline; once the database is back
the next batch is stored."""

from __future__ import annotations

import asyncio
import time

import pytest

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.authz import SYSTEM
from oncallnova.core.errors import Unavailable
from oncallnova.runtime.container import Runtime
from oncallnova.services.schemas import ServiceIn
from tests.support.postgres import OwnPostgres
from tests.support.remote import served_remotely

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
def database_url(own_pg: OwnPostgres) -> str:
    return own_pg.url.replace("postgresql://", "postgresql+asyncpg://")


async def test_an_outage_reaches_the_front_end_within_the_retries(
    rt: Runtime, own_pg: OwnPostgres
) -> None:
    _, key = await rt.services.create(SYSTEM, ServiceIn(name="checkout"))
    assert key.key is not None
    async with served_remotely(rt) as remote:
        ingestion = remote.use_cases.ingestion
        route = await ingestion.authenticate(key.key)
        alert = [NormalizedAlert(title="before", severity="high")]
        assert (await ingestion.ingest(route, alert, "native"))[0].status == "firing"

        await asyncio.to_thread(own_pg.stop, "fast")
        started = time.monotonic()
        during = [NormalizedAlert(title="during", severity="high")]
        with pytest.raises(Unavailable):
            await ingestion.ingest(route, during, "native")
        assert time.monotonic() - started < 6

        await asyncio.to_thread(own_pg.start)
        after = [NormalizedAlert(title="after", severity="high")]
        assert (await ingestion.ingest(route, after, "native"))[0].status == "firing"
