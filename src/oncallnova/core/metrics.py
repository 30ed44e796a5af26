"""Prometheus metrics: one registry per Runtime, never the process-global default.

Two kinds of numbers live here. Counters of what *this process* did (alerts ingested,
notifications sent, escalation steps, HTTP request durations) are ordinary
`prometheus_client` instruments; Prometheus sums them across replicas. Numbers about the
*state of the system* (incidents, active incidents, MTTA/MTTR, who is on call) would be
wrong per replica, so they are read from the database at scrape time: the /metrics
handler awaits `Metrics.refresh()`, which stores a `Snapshot`, and `StateCollector`
yields that snapshot when `generate_latest` calls its (synchronous) `collect()`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from oncallnova.core.db import Database
from oncallnova.core.vocab import SEVERITIES

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Fixed buckets for MTTA and MTTR (seconds): 30 s to a week. They are computed in SQL
# from the stored durations, so changing them needs no migration.
DURATION_BUCKETS = (
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1800.0,
    3600.0,
    7200.0,
    14400.0,
    43200.0,
    86400.0,
    259200.0,
    604800.0,
)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class HistogramCounts:
    """Cumulative counts per bucket bound (same order as DURATION_BUCKETS), total, sum."""

    buckets: list[int]
    count: int
    total: float


@dataclass
class Snapshot:
    incidents: dict[tuple[str, str], int] = field(default_factory=dict)  # (severity, service)
    active: dict[str, int] = field(default_factory=dict)  # severity
    mtta: dict[str, HistogramCounts] = field(default_factory=dict)  # severity
    mttr: dict[str, HistogramCounts] = field(default_factory=dict)
    engineers_on_call: int = 0


class StateCollector(Collector):
    """Yields the last snapshot read from the database (see the module docstring)."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        if snap is None:
            return
        incidents = CounterMetricFamily(
            "oncall_incidents",
            "Incidents opened, by severity and service (read from the database).",
            labels=["severity", "service"],
        )
        for (severity, service), count in sorted(snap.incidents.items()):
            incidents.add_metric([severity, service], count)
        yield incidents
        active = GaugeMetricFamily(
            "oncall_incidents_active",
            "Incidents not resolved yet (triggered or acknowledged), by severity.",
            labels=["severity"],
        )
        for severity, count in sorted(snap.active.items()):
            active.add_metric([severity], count)
        yield active
        yield _histogram("oncall_mtta_seconds", "Time to acknowledge, by severity.", snap.mtta)
        yield _histogram("oncall_mttr_seconds", "Time to resolve, by severity.", snap.mttr)
        yield GaugeMetricFamily(
            "oncall_oncall_engineers_active",
            "Distinct users on call now across all schedules.",
            value=snap.engineers_on_call,
        )


def _histogram(name: str, doc: str, data: dict[str, HistogramCounts]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=["severity"])
    for severity, counts in sorted(data.items()):
        buckets: list[tuple[str, float]] = [
            (floatToGoString(bound), float(n))
            for bound, n in zip(DURATION_BUCKETS, counts.buckets, strict=True)
        ]
        buckets.append(("+Inf", float(counts.count)))
        family.add_metric([severity], buckets, sum_value=counts.total)
    return family


OnCallNow = Callable[[], Awaitable[Iterable[str]]]
# More state read at scrape time, by the domain that owns it: metric families to expose.
StateSource = Callable[[], Awaitable[list[Metric]]]


class SourcedCollector(Collector):
    """Yields the families the state sources gave at the last scrape."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        yield from self.families


class StateReader:
    """Reads a Snapshot from the database; `on_call_now` returns the user ids on call."""

    def __init__(self, db: Database, on_call_now: OnCallNow) -> None:
        self._db = db
        self._on_call_now = on_call_now

    async def read(self) -> Snapshot:
        # Imported here: core stays free of domain imports at module load (the queries
        # belong to the state the domains own; only the composition root wires this in).
        from oncallnova.incidents.models import Incident
        from oncallnova.services.models import Service

        snap = Snapshot(active=dict.fromkeys(SEVERITIES, 0))
        async with self._db.read() as session:
            rows = await session.execute(
                select(Incident.severity, Service.name, func.count())
                .join(Service, Service.id == Incident.service_id)
                .group_by(Incident.severity, Service.name)
            )
            snap.incidents = {(sev, name): int(n) for sev, name, n in rows}
            rows = await session.execute(
                select(Incident.severity, func.count())
                .where(Incident.status != "resolved")
                .group_by(Incident.severity)
            )
            snap.active.update({sev: int(n) for sev, n in rows})
            snap.mtta = await _durations(session, Incident.severity, Incident.mtta_seconds)
            snap.mttr = await _durations(session, Incident.severity, Incident.mttr_seconds)
        snap.engineers_on_call = len(set(await self._on_call_now()))
        return snap


async def _durations(
    session: AsyncSession,
    severity: InstrumentedAttribute[str],
    column: InstrumentedAttribute[float],
) -> dict[str, HistogramCounts]:
    """One grouped query: per severity, the count under each bucket bound, total, sum."""
    bounds = [func.sum(case((column <= bound, 1), else_=0)) for bound in DURATION_BUCKETS]
    rows = await session.execute(
        select(severity, func.count(column), func.coalesce(func.sum(column), 0.0), *bounds)
        .where(column.is_not(None))
        .group_by(severity)
    )
    return {
        row[0]: HistogramCounts(
            buckets=[int(n or 0) for n in row[3:]], count=int(row[1]), total=float(row[2])
        )
        for row in rows
    }


class Metrics:
    """The registry of one Runtime and its process-local instruments."""

    def __init__(self, reader: StateReader | None = None) -> None:
        self.registry = CollectorRegistry()
        self.reader = reader
        self.alerts_ingested = Counter(
            "oncall_alerts_ingested",
            "Alerts accepted by this process, by service and whether they were deduplicated.",
            ["service", "deduplicated"],
            registry=self.registry,
        )
        self.notifications = Counter(
            "oncall_notifications",
            "Delivery attempts by this process, by channel and outcome (sent, retry, failed).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.escalations = Counter(
            "oncall_escalations",
            "Escalation steps taken by this process's engine.",
            registry=self.registry,
        )
        self.incidents_unpaged = Counter(
            "oncall_incidents_unpaged",
            "Incidents whose escalation paged nobody, by reason (no_policy: the service has "
            "none; nobody_reachable: no level reached anyone).",
            ["reason"],
            registry=self.registry,
        )
        # Both reasons from the start, so a dashboard shows 0 rather than no data.
        for reason in ("no_policy", "nobody_reachable"):
            self.incidents_unpaged.labels(reason)
        self.http_duration = Histogram(
            "oncall_http_request_duration_seconds",
            "HTTP request duration, by method, route template and status.",
            ["method", "route", "status"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.redis_unavailable = Counter(
            "oncall_redis_unavailable",
            "Redis calls of this process that failed (outcome=failed) or were skipped "
            "while Redis was not answering (outcome=skipped).",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("failed", "skipped"):  # zero until Redis first fails, not absent
            self.redis_unavailable.labels(outcome)
        self.redis_pubsub_failures = Counter(
            "oncall_redis_pubsub_failures",
            "Attempts of this process to subscribe to or publish on Redis pub/sub that "
            "failed (each is tried again every half second).",
            registry=self.registry,
        )
        self.redis_pubsub_live = Gauge(
            "oncall_redis_pubsub_live",
            "1 while this process is subscribed to Redis pub/sub (change notices and key "
            "revocations arrive at once); 0 without Redis or while it is unreachable (the "
            "live stream polls the database, key lookups are kept only briefly).",
            registry=self.registry,
        )
        self.state = StateCollector()
        self.registry.register(self.state)
        self.state_sources: list[StateSource] = []
        self._sourced = SourcedCollector()
        self.registry.register(self._sourced)

    def count_redis_unavailable(self, outcome: str) -> None:
        self.redis_unavailable.labels(outcome).inc()

    def count_pubsub_failure(self, _: str = "failed") -> None:
        self.redis_pubsub_failures.inc()

    def set_pubsub_live(self, live: bool) -> None:
        self.redis_pubsub_live.set(1 if live else 0)

    def count_ingested(self, service: str, deduplicated: Iterable[bool]) -> None:
        new = dup = 0
        for flag in deduplicated:
            if flag:
                dup += 1
            else:
                new += 1
        if new:
            self.alerts_ingested.labels(service, "false").inc(new)
        if dup:
            self.alerts_ingested.labels(service, "true").inc(dup)

    async def exposition(self) -> bytes:
        """Reads the database state, then renders every metric in the text format.

        Nothing is awaited between storing the snapshot and rendering it, so concurrent
        scrapes each render a complete snapshot.
        """
        snapshot = await self.reader.read() if self.reader is not None else None
        families = [family for source in self.state_sources for family in await source()]
        self.state.snapshot = snapshot
        self._sourced.families = families
        return generate_latest(self.registry)
