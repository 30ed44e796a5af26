"""Request and response shapes of analytics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class AnalyticsQuery(BaseModel):
    """The filters every analytics endpoint takes, as sent (the service validates them)."""

    period: str | None = None
    days: int | None = None
    severity: list[str] | None = None
    service: str | None = None
    team: str | None = None
    tz: str = "UTC"


@dataclass(frozen=True)
class Scope:
    """Validated filters: incidents created in [start, end] (both included)."""

    start: datetime
    end: datetime
    severities: tuple[str, ...]
    service_id: str | None
    team_id: str | None


class SeverityCounts(BaseModel):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    total: int = 0


class TrendBucket(SeverityCounts):
    start: datetime = Field(description="Where the bucket begins, in the requested zone.")


class TrendsOut(BaseModel):
    start: datetime = Field(description="Incidents created from here (now minus the period).")
    end: datetime = Field(description="... up to here (now), both included.")
    bucket: str
    tz: str
    buckets: list[TrendBucket]
    totals: SeverityCounts


class HistogramBin(BaseModel):
    le: int | Literal["+Inf"] = Field(
        description="Upper edge in seconds. Counts are cumulative, as in Prometheus: a "
        "bin counts every duration of at most this many seconds; +Inf counts them all."
    )
    count: int


class DurationStats(BaseModel):
    count: int
    mean: float | None = Field(description="Seconds; null without data.")
    p50: float | None
    p90: float | None
    p99: float | None
    histogram: list[HistogramBin]


class MetricOut(BaseModel):
    overall: DurationStats
    by_severity: dict[str, DurationStats]


class DistributionOut(BaseModel):
    start: datetime
    end: datetime
    tz: str
    method: str = Field(description="How the percentiles are computed.")
    mtta: MetricOut
    mttr: MetricOut


class ServiceCount(BaseModel):
    service_id: str
    name: str
    incidents: int


class ResponderAcks(BaseModel):
    responder: str
    acks: int


class SummaryOut(BaseModel):
    start: datetime
    end: datetime
    tz: str
    open_incidents: int = Field(description="Triggered or acknowledged now (any age).")
    incidents_in_period: int
    alerts_received: int = Field(
        description="Alerts of the incidents created in the period, each counted with its "
        "repeats (the alert's deduplication count)."
    )
    alerts_per_incident: float | None = Field(
        description="alerts_received / incidents_in_period (noise reduction); null if none."
    )
    escalated_incidents: int = Field(
        description="Incidents of the period that escalated past their first page: reached "
        "level 2 or later, or a repeat of the policy."
    )
    escalation_rate: float | None = Field(
        description="escalated_incidents / incidents_in_period; null if none."
    )
    top_services: list[ServiceCount] = Field(description="Top 10 by incidents in the period.")
    acks_by_responder: list[ResponderAcks] = Field(
        description="Top 20 by acknowledgements made in the period."
    )
