"""Composition of heartbeats, silences, maintenance windows and timeouts (a part of the
composition root, kept apart so `container.py` gains only a few lines)."""

from __future__ import annotations

from dataclasses import dataclass

from oncallnova.alerts.api import AlertsInTx, AlertWriter
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.metrics import StateSource
from oncallnova.core.tracing import Tracing
from oncallnova.engine.timers import Timer
from oncallnova.heartbeats import gauges
from oncallnova.heartbeats.service import HeartbeatService
from oncallnova.incidents.api import IncidentsService
from oncallnova.incidents.holds import Holds
from oncallnova.incidents.timeouts import Timeouts
from oncallnova.services.service import ServiceCatalog
from oncallnova.suppression import phases
from oncallnova.suppression.active import QuietCache
from oncallnova.suppression.maintenance import MaintenanceService
from oncallnova.suppression.silences import SilenceService


@dataclass(frozen=True)
class Quiet:
    holds: Holds
    heartbeats: HeartbeatService
    silences: SilenceService
    maintenance: MaintenanceService
    phases: phases.Phases
    timeouts: Timeouts
    metrics: StateSource

    def reconcilers(self, tracing: Tracing) -> list[Timer]:
        return [
            Timer("heartbeats", self.heartbeats.has_due, self.heartbeats.expire_due, tracing),
            Timer("suppression", self.phases.has_due, self.phases.run_due, tracing),
            Timer("timeouts", self.timeouts.has_due, self.timeouts.run_due, tracing),
        ]


def build(
    db: Database,
    clock: Clock,
    cache: QuietCache,
    holds: Holds,
    *,
    alerts: AlertsInTx,
    incidents: IncidentsService,
    catalog: ServiceCatalog,
    writer: AlertWriter,
    base_url: str,
) -> Quiet:
    heartbeats = HeartbeatService(db, clock, catalog, writer, base_url=base_url)
    return Quiet(
        holds=holds,
        heartbeats=heartbeats,
        silences=SilenceService(db, clock, catalog, holds, incidents, cache),
        maintenance=MaintenanceService(db, clock, catalog, holds, cache),
        phases=phases.Phases(db, clock, holds, cache),
        timeouts=Timeouts(db, clock, alerts, catalog),
        metrics=gauges.source(heartbeats.states, lambda: phases.running(db, clock)),
    )
