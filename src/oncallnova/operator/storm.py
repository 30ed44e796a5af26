"""The alert storm of `full-demo`: hundreds of alerts in the three formats, built so
that the deduplication and correlation they must produce are known in advance."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from oncallnova.operator import demo_service as demo
from oncallnova.operator.client import Api

SEVERITIES = ("critical", "high", "medium", "low")
# Every distinct alert is sent this many times on average: the rest are repeats.
REPEATS = 10
NATIVE_BATCH = 100
ALERTMANAGER_BATCH = 50


@dataclass(frozen=True)
class StormAlert:
    fmt: str  # native, alertmanager, pagerduty
    fingerprint: str  # the dedup key each format carries
    severity: str
    title: str


def plan(total: int, run: str) -> list[StormAlert]:
    """`total` alerts: 60% native, 25% Alertmanager, 15% PagerDuty (one request each),
    each format cycling through its own distinct alerts, which cycle the severities."""
    shares = {"native": 0.6, "alertmanager": 0.25}
    counts = {fmt: int(total * share) for fmt, share in shares.items()}
    counts["pagerduty"] = total - sum(counts.values())
    alerts = []
    for fmt, count in counts.items():
        distinct = max(1, count // REPEATS)
        for i in range(count):
            j = i % distinct
            severity = SEVERITIES[j % len(SEVERITIES)]
            alerts.append(
                StormAlert(
                    fmt, f"storm-{run}-{fmt}-{j}", severity, f"Storm {fmt} #{j} ({severity})"
                )
            )
    return alerts


def expected(alerts: list[StormAlert]) -> tuple[int, int]:
    """(distinct alerts, incidents): one incident per severity under the default
    correlation key (service, severity), all within the window."""
    return len({a.fingerprint for a in alerts}), len({a.severity for a in alerts})


def _chunks(items: list[StormAlert], size: int) -> Iterator[list[StormAlert]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def send(
    api: Api, key: str, alerts: list[StormAlert], advance: Callable[[int], None]
) -> Counter[str]:
    """Send the storm; returns the requests made per format. Repeats of one alert may
    share a request: deduplication must hold inside a batch too."""
    requests: Counter[str] = Counter()
    by_format: dict[str, list[StormAlert]] = {}
    for alert in alerts:
        by_format.setdefault(alert.fmt, []).append(alert)
    for chunk in _chunks(by_format.get("native", []), NATIVE_BATCH):
        body: list[dict[str, Any]] = [
            demo.native_alert(a.title, a.severity, dedup_key=a.fingerprint) for a in chunk
        ]
        api.ingest(demo.NATIVE, key, body)
        requests["native"] += 1
        advance(len(chunk))
    for chunk in _chunks(by_format.get("alertmanager", []), ALERTMANAGER_BATCH):
        hook = demo.alertmanager_hook([(a.title, a.severity, a.fingerprint) for a in chunk])
        api.ingest(demo.ALERTMANAGER, key, hook)
        requests["alertmanager"] += 1
        advance(len(chunk))
    for a in by_format.get("pagerduty", []):
        api.ingest(
            demo.PAGERDUTY, key, demo.pagerduty_event(key, a.title, a.severity, a.fingerprint)
        )
        requests["pagerduty"] += 1
        advance(1)
    return requests
