"""Use cases of analytics: incident trends, MTTA/MTTR distributions, a summary.

Every figure covers the incidents created in the period [now - period, now] (both ends
included) that match the filters (severity, service, team through the service's team),
except where a field says otherwise. Counting, sums and percentiles run in the
database (see store); Python only lays the grouped rows out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from itertools import accumulate
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.analytics import logic, store
from oncallnova.analytics.schemas import (
    AnalyticsQuery,
    DistributionOut,
    DurationStats,
    HistogramBin,
    MetricOut,
    ResponderAcks,
    Scope,
    ServiceCount,
    SeverityCounts,
    SummaryOut,
    TrendBucket,
    TrendsOut,
)
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import InvalidInput
from oncallnova.core.vocab import SEVERITIES

PERCENTILE_METHOD = (
    "nearest rank: the p-th percentile of n durations sorted ascending is the one at "
    "1-based rank ceil(p/100 * n); it is always an observed value"
)
TOP_SERVICES = 10
TOP_RESPONDERS = 20


class AnalyticsService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def _scope(self, session: AsyncSession, query: AnalyticsQuery) -> Scope:
        length = logic.parse_period(query.period, query.days)
        logic.parse_zone(query.tz)
        end = self._clock.now().astimezone(UTC)
        return Scope(
            start=end - length,
            end=end,
            severities=logic.parse_severities(query.severity),
            service_id=await _known(session, "service", query.service),
            team_id=await _known(session, "team", query.team),
        )

    async def trends(self, actor: Principal, query: AnalyticsQuery, bucket: str) -> TrendsOut:
        """Incidents per time bucket and severity; every bucket of the range is listed.

        The first bucket is the one holding the period's start and the last the one
        holding now, so both may be partly outside the period: they count only the
        incidents inside it (the totals equal the summary's incidents_in_period)."""
        require(actor, Role.viewer)
        bucket = logic.parse_bucket(bucket)
        zone = logic.parse_zone(query.tz)
        async with self._db.read() as session:
            scope = await self._scope(session, query)
            edges = logic.bucket_edges(scope.start, scope.end, bucket, zone)
            slot = logic.slot_seconds(edges)
            rows = await store.trend_slots(session, self._db.dialect, scope, edges[0], slot)
        counts = [dict.fromkeys(SEVERITIES, 0) for _ in edges[:-1]]
        for number, severity, n in rows:
            index = logic.bucket_of_slot(edges, slot, number)
            if 0 <= index < len(counts) and severity in counts[index]:
                counts[index][severity] += n
        buckets = [
            TrendBucket(start=edge.astimezone(zone), **c, total=sum(c.values()))
            for edge, c in zip(edges, counts, strict=False)
        ]
        totals = {s: sum(b[s] for b in counts) for s in SEVERITIES}
        return TrendsOut(
            start=scope.start.astimezone(zone),
            end=scope.end.astimezone(zone),
            bucket=bucket,
            tz=query.tz,
            buckets=buckets,
            totals=SeverityCounts(**totals, total=sum(totals.values())),
        )

    async def distribution(self, actor: Principal, query: AnalyticsQuery) -> DistributionOut:
        """MTTA and MTTR of the period's incidents that have one: count, mean, nearest-rank
        p50/p90/p99 (computed in SQL with window functions, see store) and a histogram
        with cumulative counts, as Prometheus `le` buckets are: the bin with edge `le`
        counts durations of at most `le` seconds, and "+Inf" counts them all."""
        require(actor, Role.viewer)
        async with self._db.read() as session:
            scope = await self._scope(session, query)
            bins = await store.duration_bins(session, scope)
            ranked = await store.duration_percentiles(session, scope)
        groups = [*SEVERITIES, ""]  # "" is every severity together
        size = len(logic.HISTOGRAM_EDGES) + 1
        hist = {(m, g): [0] * size for m in ("mtta", "mttr") for g in groups}
        sums: dict[tuple[str, str], float] = defaultdict(float)
        for metric, severity, index, n, total in bins:
            for group in (severity, ""):
                if (metric, group) in hist:
                    hist[metric, group][index] += n
                    sums[metric, group] += total
        picks: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
        for metric, severity, x, rn, n, rn_all, n_all in ranked:
            for p in logic.PERCENTILES:
                if rn == logic.nearest_rank(n, p):
                    picks[metric, severity][p] = x
                if rn_all == logic.nearest_rank(n_all, p):
                    picks[metric, ""][p] = x

        def stats(metric: str, group: str) -> DurationStats:
            counts = hist[metric, group]
            count = sum(counts)
            chosen = picks.get((metric, group), {})
            edges: list[int | Literal["+Inf"]] = [*logic.HISTOGRAM_EDGES, "+Inf"]
            return DurationStats(
                count=count,
                mean=sums[metric, group] / count if count else None,
                p50=chosen.get(50),
                p90=chosen.get(90),
                p99=chosen.get(99),
                histogram=[
                    HistogramBin(le=e, count=n)
                    for e, n in zip(edges, accumulate(counts), strict=True)
                ],
            )

        def metric_out(metric: str) -> MetricOut:
            return MetricOut(
                overall=stats(metric, ""),
                by_severity={s: stats(metric, s) for s in SEVERITIES},
            )

        zone = logic.parse_zone(query.tz)
        return DistributionOut(
            start=scope.start.astimezone(zone),
            end=scope.end.astimezone(zone),
            tz=query.tz,
            method=PERCENTILE_METHOD,
            mtta=metric_out("mtta"),
            mttr=metric_out("mttr"),
        )

    async def summary(self, actor: Principal, query: AnalyticsQuery) -> SummaryOut:
        """Open incidents now; the period's incidents, alerts (each alert of those
        incidents with its repeats, i.e. the sum of its deduplication count), alerts per
        incident, escalation rate (share that escalated past the first page: reached
        level 2 or a repeat), the top 10 services, and acknowledgements made in the
        period per responder (top 20)."""
        require(actor, Role.viewer)
        async with self._db.read() as session:
            scope = await self._scope(session, query)
            open_now, created, escalated = await store.counts(session, scope)
            alerts = await store.alerts_received(session, scope)
            services = await store.top_services(session, scope, TOP_SERVICES)
            acks = await store.acks_by_responder(session, scope, TOP_RESPONDERS)
        zone = logic.parse_zone(query.tz)
        return SummaryOut(
            start=scope.start.astimezone(zone),
            end=scope.end.astimezone(zone),
            tz=query.tz,
            open_incidents=open_now,
            incidents_in_period=created,
            alerts_received=alerts,
            alerts_per_incident=round(alerts / created, 4) if created else None,
            escalated_incidents=escalated,
            escalation_rate=round(escalated / created, 4) if created else None,
            top_services=[
                ServiceCount(service_id=i, name=name, incidents=n) for i, name, n in services
            ],
            acks_by_responder=[ResponderAcks(responder=who, acks=n) for who, n in acks],
        )


async def _known(
    session: AsyncSession, what: Literal["service", "team"], ref: str | None
) -> str | None:
    """The id a filter names, by id or by name; an unknown one is refused, naming it,
    rather than answered with zeros that look like a quiet week."""
    ref = (ref or "").strip()
    if not ref:
        return None
    found = await store.find_id(session, what, ref) if len(ref) <= 200 else None
    if found is None:
        raise InvalidInput(f"unknown {what} '{ref[:200]}': give its id or its name", field=what)
    return found
