"""The analytics use cases the transports call."""

from __future__ import annotations

from typing import Protocol

from oncallnova.analytics.schemas import AnalyticsQuery, DistributionOut, SummaryOut, TrendsOut
from oncallnova.core.authz import Principal


class AnalyticsService(Protocol):
    async def distribution(self, actor: Principal, query: AnalyticsQuery) -> DistributionOut:
        """MTTA and MTTR of the period's incidents that have one: count, mean, nearest-rank
        p50/p90/p99 (computed in SQL with window functions, see store) and a histogram with
        cumulative counts, as Prometheus `le` buckets are: the bin with edge `le` counts durations
        of at most `le` seconds, and "+Inf" counts them all."""
        ...

    async def summary(self, actor: Principal, query: AnalyticsQuery) -> SummaryOut:
        """Open incidents now; the period's incidents, alerts (each alert of those incidents with
        its repeats, i.e. the sum of its deduplication count), alerts per incident, escalation rate
        (share that escalated past the first page: reached level 2 or a repeat), the top 10
        services, and acknowledgements made in the period per responder (top 20)."""
        ...

    async def trends(self, actor: Principal, query: AnalyticsQuery, bucket: str) -> TrendsOut:
        """Incidents per time bucket and severity; every bucket of the range is listed. The first
        bucket is the one holding the period's start and the last the one holding now, so both may
        be partly outside the period: they count only the incidents inside it (the totals equal the
        summary's incidents_in_period)."""
        ...
