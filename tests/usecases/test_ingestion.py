"""The ingestion use case, called directly (no HTTP): what a gRPC front end will wrap."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.authz import SYSTEM
from oncallnova.core.errors import Unauthenticated
from oncallnova.incidents.schemas import IncidentFilter
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.services import Services
from oncallnova.services.schemas import ServiceIn
from tests.conftest import RuntimeFactory


async def _key(rt: Runtime, name: str = "checkout") -> str:
    _, key = await rt.services.create(SYSTEM, ServiceIn(name=name))
    assert key.key is not None
    return key.key


def _ingested(rt: Runtime, service: str, deduplicated: str) -> float:
    value = rt.metrics.registry.get_sample_value(
        "oncall_alerts_ingested_total", {"service": service, "deduplicated": deduplicated}
    )
    return value or 0.0


async def test_ingest_stores_counts_and_names_the_source(uc: Services, rt: Runtime) -> None:
    route = await uc.ingestion.authenticate(await _key(rt))
    assert route.service_name == "checkout"
    alert = NormalizedAlert(title="disk full", severity="critical", dedup_key="disk-1")

    first = await uc.ingestion.ingest(route, [alert], "native")
    again = await uc.ingestion.ingest(route, [alert, alert], "pagerduty")

    assert [r.deduplicated for r in first] == [False]
    assert [r.deduplicated for r in again] == [True, True]
    assert _ingested(rt, "checkout", "false") == 1
    assert _ingested(rt, "checkout", "true") == 2
    incident_id = first[0].incident_id
    assert incident_id is not None
    detail = await rt.incidents.detail(SYSTEM, incident_id)
    assert detail.timeline[0].actor == "integration:checkout"


async def test_alertmanager_batches_are_acted_on_by_alertmanager(uc: Services, rt: Runtime) -> None:
    route = await uc.ingestion.authenticate(await _key(rt, "api"))
    results = await uc.ingestion.ingest(
        route, [NormalizedAlert(title="5xx", severity="high")], "alertmanager"
    )
    incident_id = results[0].incident_id
    assert incident_id is not None
    detail = await rt.incidents.detail(SYSTEM, incident_id)
    assert detail.timeline[0].actor == "alertmanager"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "missing integration key"),
        ("", "missing integration key"),
        ("no-such-key", "unknown or revoked integration key"),
    ],
)
async def test_a_missing_or_unknown_key_is_unauthenticated(
    uc: Services, rt: Runtime, key: str | None, message: str
) -> None:
    with pytest.raises(Unauthenticated, match=message):
        await uc.ingestion.authenticate(key)


async def test_a_batch_sent_again_is_stored_and_counted_once(uc: Services, rt: Runtime) -> None:
    """A retry after a lost reply carries the same batch id: it stores nothing more, counts
    nothing more, and answers with the first delivery's results."""
    route = await uc.ingestion.authenticate(await _key(rt))
    alerts = [
        NormalizedAlert(title="disk full", severity="critical", dedup_key="disk-1"),
        NormalizedAlert(title="cpu hot", severity="critical"),
    ]

    first = await uc.ingestion.ingest(route, alerts, "native", "batch-0001")
    again = await uc.ingestion.ingest(route, alerts, "native", "batch-0001")
    other = await uc.ingestion.ingest(route, alerts[:1], "native", "batch-0002")

    assert again == first
    assert [r.deduplicated for r in first] == [False, False]
    assert [r.deduplicated for r in other] == [True]  # a new batch is a repeat, as ever
    assert _ingested(rt, "checkout", "false") == 2
    assert _ingested(rt, "checkout", "true") == 1
    incident_id = first[0].incident_id
    assert incident_id is not None
    detail = await uc.incidents.detail(SYSTEM, incident_id)
    assert sorted((a.title, a.count) for a in detail.alerts) == [("cpu hot", 1), ("disk full", 2)]


async def test_a_batch_handed_over_twice_at_once_is_stored_once(uc: Services, rt: Runtime) -> None:
    """Two deliveries of one batch that reach the writer together (so the same
    transaction takes both) store it once and both get its results."""
    route = await uc.ingestion.authenticate(await _key(rt))
    alerts = [NormalizedAlert(title=f"alert {n}", severity="high") for n in range(3)]
    one, two = await asyncio.gather(
        uc.ingestion.ingest(route, alerts, "native", "b-twice"),
        uc.ingestion.ingest(route, alerts, "native", "b-twice"),
    )
    assert one == two
    assert [r.deduplicated for r in one] == [False, False, False]
    assert _ingested(rt, "checkout", "false") == 3
    assert _ingested(rt, "checkout", "true") == 0
    page = await rt.incidents.list(SYSTEM, IncidentFilter())
    assert [i.alert_count for i in page.items] == [3]


async def test_replicas_racing_on_one_batch_store_it_once(
    make_runtime: RuntimeFactory, rt: Runtime
) -> None:
    """The same batch delivered to two writers at once (a retry that reached another
    replica while the first was still storing it) is stored by one of them; both answer
    with the same results."""
    other = await make_runtime()
    key = await _key(rt)
    alerts = [NormalizedAlert(title=f"alert {n}", severity="low") for n in range(50)]
    one, two = await asyncio.gather(
        rt.ingestion.ingest(await rt.ingestion.authenticate(key), alerts, "native", "b-race"),
        other.ingestion.ingest(await other.ingestion.authenticate(key), alerts, "native", "b-race"),
    )
    assert one == two
    assert len({r.alert_id for r in one}) == 50
    stored = _ingested(rt, "checkout", "false") + _ingested(other, "checkout", "false")
    assert stored == 50
    page = await rt.incidents.list(SYSTEM, IncidentFilter())
    assert [i.alert_count for i in page.items] == [50]


@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_writer_connection_closed_by_the_server_costs_no_alert(rt: Runtime) -> None:
    """The writer does not ping its pooled connection before each batch. One that the
    server closed meanwhile (a restart, an idle timeout) fails the first statement, and
    the batch is stored on a new connection instead of failing."""
    route = await rt.ingestion.authenticate(await _key(rt))
    await rt.ingestion.ingest(route, [NormalizedAlert(title="before", severity="low")], "native")
    async with rt.db.read() as session:
        ended = await session.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        assert ended.scalar_one() >= 1  # the writer's pooled connection among them

    results = await rt.ingestion.ingest(
        route, [NormalizedAlert(title="after", severity="low")], "native"
    )

    assert [r.status for r in results] == ["firing"]
    assert _ingested(rt, "checkout", "false") == 2
