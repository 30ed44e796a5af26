"""`oncallnova analytics`: incident trends as a bar chart in the terminal and the MTTA
and MTTR distribution table, from the analytics API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from oncallnova.operator.ui import (
    JsonOption,
    TokenOption,
    UrlOption,
    connect,
    duration,
    out,
    print_json,
    reports_errors,
)

SEVERITIES = ("critical", "high", "medium", "low")
STYLE = {"critical": "red", "high": "yellow", "medium": "blue", "low": "bright_black"}
# Each severity has its own block, so the chart reads without colour too.
BLOCK = {"critical": "█", "high": "▓", "medium": "▒", "low": "░"}
BAR_WIDTH = 50


def _label(start: str, bucket: str) -> str:
    moment = datetime.fromisoformat(start)
    return moment.strftime("%Y-%m-%d %H:%M" if bucket.endswith("h") else "%Y-%m-%d")


def bar_chart(trends: dict[str, Any]) -> list[Text]:
    """One line per bucket: a bar of severity blocks scaled to the largest bucket."""
    buckets = trends["buckets"]
    peak = max((b["total"] for b in buckets), default=0)
    scale = BAR_WIDTH / peak if peak > BAR_WIDTH else 1.0
    rows = []
    for bucket in buckets:
        row = Text(_label(bucket["start"], trends["bucket"]) + " │")
        for severity in SEVERITIES:
            count = bucket[severity]
            cells = round(count * scale) if count else 0
            if count and not cells:
                cells = 1  # a bucket with incidents never looks empty
            row.append(BLOCK[severity] * cells, style=STYLE[severity])
        row.append(f" {bucket['total']}")
        rows.append(row)
    return rows


def legend() -> Text:
    text = Text("   ")
    for severity in SEVERITIES:
        text.append(BLOCK[severity] * 2, style=STYLE[severity])
        text.append(f" {severity}  ")
    return text


def distribution_table(dist: dict[str, Any]) -> Table:
    table = Table(title="MTTA and MTTR by severity (nearest-rank percentiles)")
    for column in ("severity", "metric", "count", "mean", "p50", "p90", "p99"):
        table.add_column(
            column, justify="right" if column not in ("severity", "metric") else "left"
        )
    for severity in (*SEVERITIES, "all"):
        for metric in ("mtta", "mttr"):
            data = dist[metric]
            stats = data["overall"] if severity == "all" else data["by_severity"].get(severity)
            if not stats or not stats["count"]:
                continue
            table.add_row(
                severity,
                metric.upper(),
                str(stats["count"]),
                duration(stats["mean"]),
                duration(stats["p50"]),
                duration(stats["p90"]),
                duration(stats["p99"]),
            )
    return table


def histogram_table(dist: dict[str, Any]) -> Table:
    """The overall MTTR histogram: how many incidents were resolved within each bound."""
    overall = dist["mttr"]["overall"]
    table = Table(title="MTTR distribution (resolved within)")
    for column in ("within", "incidents", "share"):
        table.add_column(column, justify="right")
    total = overall["count"] or 1
    for bin_ in overall["histogram"]:
        within = "any time" if bin_["le"] == "+Inf" else duration(float(bin_["le"]))
        share = bin_["count"] / total
        table.add_row(within, str(bin_["count"]), f"{'█' * round(share * 20):<20} {share:>4.0%}")
    return table


@reports_errors
def analytics(
    url: UrlOption = None,
    token: TokenOption = None,
    period: Annotated[str, typer.Option(help="How far back: 1d, 7d, 30d, 90d...")] = "7d",
    bucket: Annotated[str, typer.Option(help="Bar size: 1h, 6h, 1d or 1w.")] = "1d",
    service: Annotated[str | None, typer.Option(help="Only this service (name or id).")] = None,
    team: Annotated[
        str | None, typer.Option(help="Only this team's services (name or id).")
    ] = None,
    tz: Annotated[str, typer.Option(help="Time zone the buckets are aligned in.")] = "UTC",
    as_json: JsonOption = False,
) -> None:
    """Incident trends as a bar chart, and the MTTA/MTTR distribution per severity."""
    scope = {"period": period, "service": service, "team": team, "tz": tz}
    with connect(url, token) as api:
        trends = api.get("/api/v1/analytics/trends", bucket=bucket, **scope)
        dist = api.get("/api/v1/analytics/mttr-distribution", **scope)
    if as_json:
        print_json({"trends": trends, "distribution": dist})
        return
    totals = trends["totals"]
    out.print(
        f"[bold]Incidents per {escape(trends['bucket'])}[/bold], last {escape(period)} "
        f"({escape(tz)}): {totals['total']} in all"
    )
    for row in bar_chart(trends):
        out.print(row)
    out.print(legend())
    out.print(distribution_table(dist))
    if dist["mttr"]["overall"]["count"]:
        out.print(histogram_table(dist))
    else:
        out.print("no resolved incidents in this period yet")
