"""`AnalyticsService` over a real gRPC connection: trends, distributions and the
summary answer what the in-process use case answers, times in the query's zone as it
gives them, and bad filters fail alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.analytics.schemas import AnalyticsQuery
from oncallnova.core.errors import InvalidInput, NotFound
from oncallnova.services.schemas import ServiceIn
from oncallnova.transport.grpc.clients.analytics import AnalyticsClient
from tests.grpc.conftest import START, Stack, same, same_error

QUERIES = [
    AnalyticsQuery(),
    AnalyticsQuery(period="24h", tz="Asia/Kolkata"),
    AnalyticsQuery(days=3, severity=["critical,high"], tz="America/St_Johns"),
]


@pytest.fixture(scope="module")
async def incidents(stack: Stack) -> str:
    """Incidents over three days, some acknowledged and resolved (MTTA, MTTR)."""
    rt, admin = stack.rt, stack.admin
    _, key = await rt.use_cases.catalog.create(
        admin, ServiceIn(name="shop", correlation_key=["title"])
    )
    assert key.key is not None
    route = await rt.use_cases.ingestion.authenticate(key.key)
    for n, severity in enumerate(["critical", "high", "low", "critical", "medium"]):
        stack.clock.set(START - timedelta(hours=20 * n))
        alert = NormalizedAlert(title=f"alert {n}", severity=severity)  # type: ignore[arg-type]
        results = await rt.use_cases.ingestion.ingest(route, [alert], "native")
        incident_id = results[0].incident_id
        assert incident_id is not None
        if n % 2 == 0:
            stack.clock.advance(90 * (n + 1))
            await rt.use_cases.incidents.acknowledge(admin, incident_id)
            stack.clock.advance(600)
            await rt.use_cases.incidents.resolve(admin, incident_id)
    stack.clock.set(START)
    return route.service_id


@pytest.mark.parametrize("query", QUERIES, ids=["default", "24h-kolkata", "3d-st-johns"])
async def test_every_method_answers_as_in_process(
    stack: Stack, incidents: str, query: AnalyticsQuery
) -> None:
    analytics, local, viewer = AnalyticsClient(stack.channel), stack.local.analytics, stack.viewer
    for bucket in ("1h", "1d"):
        trends = await analytics.trends(viewer, query, bucket)
        same(trends, await local.trends(viewer, query, bucket))
    summary = await analytics.summary(viewer, query)
    same(summary, await local.summary(viewer, query))
    distribution = await analytics.distribution(viewer, query)
    same(distribution, await local.distribution(viewer, query))
    assert summary.incidents_in_period == trends.totals.total > 0
    assert distribution.mtta.overall.histogram[-1].le == "+Inf"


async def test_a_service_filter_and_bad_filters(stack: Stack, incidents: str) -> None:
    analytics, local, viewer = AnalyticsClient(stack.channel), stack.local.analytics, stack.viewer
    only = AnalyticsQuery(service=incidents, period="2w")
    same(await analytics.summary(viewer, only), await local.summary(viewer, only))
    for query, field in [
        (AnalyticsQuery(period="forever"), "period"),
        (AnalyticsQuery(period="7d", days=7), "days"),
        (AnalyticsQuery(days=10_000), "days"),
        (AnalyticsQuery(severity=["urgent"]), "severity"),
        (AnalyticsQuery(tz="Mars/Base"), "tz"),
    ]:
        err = await same_error(analytics.summary(viewer, query), local.summary(viewer, query))
        assert isinstance(err, InvalidInput) and err.field == field
    default = AnalyticsQuery()
    err = await same_error(
        analytics.trends(viewer, default, "2d"), local.trends(viewer, default, "2d")
    )
    assert err.field == "bucket"
    unknown = AnalyticsQuery(team="no-such-team")
    err = await same_error(
        analytics.distribution(viewer, unknown), local.distribution(viewer, unknown)
    )
    assert isinstance(err, NotFound | InvalidInput)
