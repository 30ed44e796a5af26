"""The `/metrics` gauges of heartbeat monitors, silences and maintenance windows, read
from the database at scrape time (so every replica reports the same)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client.core import GaugeMetricFamily, Metric

from oncallnova.heartbeats.schemas import MonitorOut

STATES = ("inactive", "up", "expired")


def monitor_gauges(monitors: list[MonitorOut]) -> list[Metric]:
    by_state = GaugeMetricFamily(
        "oncall_heartbeat_monitors",
        "Heartbeat monitors by state (inactive: never beat; up; expired: its alert is open).",
        labels=["state"],
    )
    for state in STATES:
        by_state.add_metric([state], sum(1 for m in monitors if m.state == state))
    expired = GaugeMetricFamily(
        "oncall_heartbeat_expired",
        "1 while the monitor is expired (no beat within its interval), else 0.",
        labels=["service", "monitor"],
    )
    last = GaugeMetricFamily(
        "oncall_heartbeat_last_beat_timestamp_seconds",
        "When the monitor last beat (Unix time); absent until its first beat.",
        labels=["service", "monitor"],
    )
    for m in monitors:
        labels = [m.service_name or m.service_id, m.name]
        expired.add_metric(labels, 1.0 if m.state == "expired" else 0.0)
        if m.last_beat_at is not None:
            last.add_metric(labels, m.last_beat_at.timestamp())
    return [by_state, expired, last]


def running_gauges(silences: int, windows: int) -> list[Metric]:
    return [
        GaugeMetricFamily(
            "oncall_silences_active", "Silences in force now.", value=float(silences)
        ),
        GaugeMetricFamily(
            "oncall_maintenance_windows_active",
            "Maintenance windows in force now.",
            value=float(windows),
        ),
    ]


def source(
    monitors: Callable[[], Awaitable[list[MonitorOut]]],
    running: Callable[[], Awaitable[tuple[int, int]]],
) -> Callable[[], Awaitable[list[Metric]]]:
    """A `core.metrics.StateSource` of these gauges."""

    async def read() -> list[Metric]:
        return monitor_gauges(await monitors()) + running_gauges(*await running())

    return read
