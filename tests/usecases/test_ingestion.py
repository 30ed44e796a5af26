"""The ingestion use case, called directly (no HTTP): what a gRPC front end will wrap."""

from __future__ import annotations

import pytest

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.authz import SYSTEM
from oncallnova.core.errors import Unauthenticated
from oncallnova.runtime.container import Runtime
from oncallnova.services.schemas import ServiceIn


async def _key(rt: Runtime, name: str = "checkout") -> str:
    _, key = await rt.services.create(SYSTEM, ServiceIn(name=name))
    assert key.key is not None
    return key.key


def _ingested(rt: Runtime, service: str, deduplicated: str) -> float:
    value = rt.metrics.registry.get_sample_value(
        "oncall_alerts_ingested_total", {"service": service, "deduplicated": deduplicated}
    )
    return value or 0.0


async def test_ingest_stores_counts_and_names_the_source(rt: Runtime) -> None:
    route = await rt.ingestion.authenticate(await _key(rt))
    assert route.service_name == "checkout"
    alert = NormalizedAlert(title="disk full", severity="critical", dedup_key="disk-1")

    first = await rt.ingestion.ingest(route, [alert], "native")
    again = await rt.ingestion.ingest(route, [alert, alert], "pagerduty")

    assert [r.deduplicated for r in first] == [False]
    assert [r.deduplicated for r in again] == [True, True]
    assert _ingested(rt, "checkout", "false") == 1
    assert _ingested(rt, "checkout", "true") == 2
    incident_id = first[0].incident_id
    assert incident_id is not None
    detail = await rt.incidents.detail(SYSTEM, incident_id)
    assert detail.timeline[0].actor == "integration:checkout"


async def test_alertmanager_batches_are_acted_on_by_alertmanager(rt: Runtime) -> None:
    route = await rt.ingestion.authenticate(await _key(rt, "api"))
    results = await rt.ingestion.ingest(
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
    rt: Runtime, key: str | None, message: str
) -> None:
    with pytest.raises(Unauthenticated, match=message):
        await rt.ingestion.authenticate(key)
