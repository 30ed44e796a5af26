"""Analytics: incident trends, MTTA/MTTR distributions and a summary, for viewers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from oncallnova.analytics.schemas import AnalyticsQuery, DistributionOut, SummaryOut, TrendsOut
from oncallnova.core.authz import Role
from oncallnova.transport.http.auth import Actor, needs
from oncallnova.transport.http.deps import use_cases

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Period = Annotated[
    str | None,
    Query(
        description="How far back from now: a number and h, d or w (e.g. 24h, 7d, 2w); "
        "at most 366 days; default 7d."
    ),
]
Days = Annotated[int | None, Query(description="Alternative to period: a number of days.")]
Severities = Annotated[
    list[str] | None,
    Query(description="critical, high, medium or low; repeat (or comma-separate) for more."),
]
ServiceId = Annotated[
    str | None,
    Query(description="Only this service's incidents: its id or its name (422 if unknown)."),
]
TeamId = Annotated[
    str | None,
    Query(description="Only incidents of this team's services: its id or name (422 if unknown)."),
]
Zone = Annotated[str, Query(description="IANA time zone of the buckets and the output.")]


def _filters(
    period: Period = None,
    days: Days = None,
    severity: Severities = None,
    service: ServiceId = None,
    team: TeamId = None,
    tz: Zone = "UTC",
) -> AnalyticsQuery:
    """The filters every analytics route takes, parsed once as a dependency."""
    return AnalyticsQuery(
        period=period, days=days, severity=severity, service=service, team=team, tz=tz
    )


Filters = Annotated[AnalyticsQuery, Depends(_filters)]


@router.get("/trends", response_model=TrendsOut, **needs(Role.viewer))
async def trends(
    request: Request,
    who: Actor,
    flt: Filters,
    bucket: Annotated[str, Query(description="1h, 6h, 1d or 1w (weeks start Monday)")] = "1d",
) -> TrendsOut:
    """Incidents created per time bucket, split by severity, every bucket listed."""
    return await use_cases(request).analytics.trends(who, flt, bucket)


@router.get("/mttr-distribution", response_model=DistributionOut, **needs(Role.viewer))
async def mttr_distribution(request: Request, who: Actor, flt: Filters) -> DistributionOut:
    """MTTA and MTTR: count, mean, nearest-rank p50/p90/p99 and a histogram."""
    return await use_cases(request).analytics.distribution(who, flt)


@router.get("/summary", response_model=SummaryOut, **needs(Role.viewer))
async def summary(request: Request, who: Actor, flt: Filters) -> SummaryOut:
    """Open incidents, volume, noise reduction, escalation rate, top services and ackers."""
    return await use_cases(request).analytics.summary(who, flt)
