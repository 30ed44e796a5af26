"""Page: analytics. Incidents over time, MTTA/MTTR, noise, escalation, busiest services
and acknowledgements, drawn as server-side SVG with the numbers also as tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from oncallnova.analytics.schemas import (
    AnalyticsQuery,
    DistributionOut,
    DurationStats,
    SummaryOut,
    TrendsOut,
)
from oncallnova.core.authz import Principal
from oncallnova.runtime.services import Services
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.web import charts
from oncallnova.transport.web.charts import Series
from oncallnova.transport.web.render import SEVERITIES, PageViewer, render

router = APIRouter(include_in_schema=False)

PERIODS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days", "90d": "90 days"}
DEFAULT_PERIOD = "7d"
# The MTTA/MTTR trend: the API gives means only for windows ending now, so the page asks
# for windows of 1, 2, ... N steps (N calls) and subtracts neighbours: (N, hours per step).
TREND_STEPS = {"24h": (8, 3), "7d": (7, 24), "30d": (10, 72), "90d": (9, 240)}
# One label per range between the API's histogram edges (1m, 5m, ... 1d); the dashes
# are en dashes, as ranges are written: "1-5m" holds durations over 1m and up to 5m.
BIN_LABELS = ("≤1m", "1–5m", "5–15m", "15–30m", "30m–1h", "1–4h", "4h–1d", ">1d")  # noqa: RUF001


@dataclass(frozen=True)
class Window:
    """One step of the MTTA/MTTR trend: incidents created in [start, end)."""

    start: datetime
    end: datetime
    acked: int
    mtta: float | None
    resolved: int
    mttr: float | None


def _filters(request: Request, service_ids: set[str], team_ids: set[str]) -> dict[str, Any]:
    """The chosen filters; unknown values fall back to the default (no error page)."""
    params = request.query_params
    period = params.get("period", DEFAULT_PERIOD)
    severity = [s for s in params.getlist("severity") if s in SEVERITIES]
    service = params.get("service", "")
    team = params.get("team", "")
    return {
        "period": period if period in PERIODS else DEFAULT_PERIOD,
        "severity": list(dict.fromkeys(severity)),
        "service": service if service in service_ids else "",
        "team": team if team in team_ids else "",
    }


def _totals(stats: DurationStats) -> tuple[int, float]:
    return stats.count, (stats.mean or 0.0) * stats.count


async def _windows(
    svc: Services, who: Principal, query: AnalyticsQuery, full: DistributionOut, period: str
) -> list[Window]:
    """Mean MTTA and MTTR per step, oldest first, from cumulative windows ending now."""
    steps, hours = TREND_STEPS[period]
    cumulative = []
    for k in range(1, steps):
        part = query.model_copy(update={"period": f"{k * hours}h"})
        cumulative.append(await svc.analytics.distribution(who, part))
    cumulative.append(full)
    windows = []
    before = {"mtta": (0, 0.0), "mttr": (0, 0.0)}
    for k, dist in enumerate(cumulative, 1):
        now = {"mtta": _totals(dist.mtta.overall), "mttr": _totals(dist.mttr.overall)}
        diff = {m: (now[m][0] - before[m][0], now[m][1] - before[m][1]) for m in now}
        mean = {m: max(0.0, s / n) if n > 0 else None for m, (n, s) in diff.items()}
        windows.append(
            Window(
                start=full.end - timedelta(hours=k * hours),
                end=full.end - timedelta(hours=(k - 1) * hours),
                acked=max(0, diff["mtta"][0]),
                mtta=mean["mtta"],
                resolved=max(0, diff["mttr"][0]),
                mttr=mean["mttr"],
            )
        )
        before = now
    return windows[::-1]


def _severities(chosen: list[str]) -> list[str]:
    return chosen or list(SEVERITIES)


def _volume(trends: TrendsOut, shown: list[str], period: str) -> Markup:
    hourly = period == "24h"
    fmt = "%H:%M" if hourly else "%b %d"
    names = [b.start.strftime(fmt) for b in trends.buckets]
    series = [Series(s, [getattr(b, s) for b in trends.buckets], f"fill-{s}") for s in shown]
    desc = f"{trends.totals.total} incidents in {len(names)} {'hours' if hourly else 'days'}: " + (
        ", ".join(f"{getattr(trends.totals, s)} {s}" for s in shown)
    )
    title = "Incidents per hour by severity" if hourly else "Incidents per day by severity"
    return charts.stacked_bars(
        "volume", title, desc, names, series, width=charts.WIDE, height=280, max_labels=6
    )


def per_range(stats: DurationStats) -> list[int]:
    """The API's cumulative `le` counts as a count per range, which a bar chart shows."""
    counts = [b.count for b in stats.histogram]
    return [n - below for n, below in zip(counts, [0, *counts[:-1]], strict=True)]


def _histogram(metric: str, dist: DistributionOut, shown: list[str]) -> Markup:
    data = getattr(dist, metric.lower())
    series = [Series(s, per_range(data.by_severity[s]), f"fill-{s}") for s in shown]
    desc = f"{metric} of {data.overall.count} incidents: " + ", ".join(
        f"{label} {n}" for label, n in zip(BIN_LABELS, per_range(data.overall), strict=True)
    )
    return charts.stacked_bars(
        f"{metric.lower()}-hist", f"{metric} histogram by severity", desc, BIN_LABELS, series
    )


def _trend_chart(metric: str, windows: list[Window], fmt: str) -> Markup:
    means = [getattr(w, metric.lower()) for w in windows]
    names = [w.end.strftime(fmt) for w in windows]  # the last one ends now
    desc = f"Mean {metric} per window, by when it ends: " + ", ".join(
        f"{n} {charts.value_text(v, seconds=True) if v is not None else 'no data'}"
        for n, v in zip(names, means, strict=True)
    )
    cls = "fill-accent" if metric == "MTTA" else "fill-resolved"
    return charts.stacked_bars(
        f"{metric.lower()}-trend",
        f"Mean {metric} per window",
        desc,
        names,
        [Series(f"mean {metric}", means, cls)],
        seconds=True,
        height=200,
    )


def _summary_charts(summary: SummaryOut) -> dict[str, Markup]:
    created, alerts = summary.incidents_in_period, summary.alerts_received
    escalated = summary.escalated_incidents
    services = [(s.name, float(s.incidents)) for s in summary.top_services]
    acks = [(r.responder, float(r.acks)) for r in summary.acks_by_responder]
    return {
        "noise_chart": charts.hbars(
            "noise",
            "Alerts received and incidents opened",
            f"{alerts} alerts received became {created} incidents.",
            [("Alerts received", alerts), ("Incidents opened", created)],
        ),
        "escalation_chart": charts.hbars(
            "escalation",
            "Incidents that escalated",
            f"{escalated} of {created} incidents escalated past their first page.",
            [("Escalated", escalated), ("First page only", created - escalated)],
            cls="fill-high",
        ),
        "services_chart": charts.hbars(
            "services",
            "Busiest services",
            "Incidents per service: " + ", ".join(f"{n} {v:g}" for n, v in services),
            services,
            empty="No incidents",
        ),
        "acks_chart": charts.hbars(
            "acks",
            "Acknowledgements per responder",
            "Acknowledgements: " + ", ".join(f"{n} {v:g}" for n, v in acks),
            acks,
            cls="fill-resolved",
            empty="No acknowledgements",
        ),
    }


@router.get("/analytics")
async def analytics(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    services = await svc.catalog.list(page.who)
    teams = await svc.users.list_teams(page.who)
    chosen = _filters(request, {s.id for s in services}, {t.id for t in teams})
    period = chosen["period"]
    query = AnalyticsQuery(
        period=period,
        severity=chosen["severity"] or None,
        service=chosen["service"] or None,
        team=chosen["team"] or None,
        tz=page.zone.key,
    )
    summary = await svc.analytics.summary(page.who, query)
    context: dict[str, Any] = {}
    if summary.incidents_in_period:
        shown = _severities(chosen["severity"])
        trends = await svc.analytics.trends(page.who, query, "1h" if period == "24h" else "1d")
        dist = await svc.analytics.distribution(page.who, query)
        windows = await _windows(svc, page.who, query, dist, period)
        window_fmt = "%H:%M" if period == "24h" else "%b %d"
        context = {
            "trends": trends,
            "dist": dist,
            "windows": windows,
            "step_hours": TREND_STEPS[period][1],
            "shown": shown,
            "legend": charts.legend(
                [Series(s, [], f"fill-{s}") for s in shown], "Severity colours"
            ),
            "volume_chart": _volume(trends, shown, period),
            "hist": {m: _histogram(m, dist, shown) for m in ("MTTA", "MTTR")},
            "trend_charts": {m: _trend_chart(m, windows, window_fmt) for m in ("MTTA", "MTTR")},
            "bin_labels": BIN_LABELS,
            "per_range": per_range,
            **_summary_charts(summary),
        }
    return render(
        request,
        page,
        "analytics.html",
        title="Analytics",
        summary=summary,
        chosen=chosen,
        period_label=PERIODS[period],
        periods=PERIODS,
        services=services,
        teams=teams,
        filtered=bool(chosen["severity"] or chosen["service"] or chosen["team"]),
        **context,
    )
