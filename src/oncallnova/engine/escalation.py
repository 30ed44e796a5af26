"""Reconciler: take the escalation steps that are due."""

from __future__ import annotations

from datetime import datetime

from oncallnova.core.metrics import Metrics
from oncallnova.core.tracing import Tracing
from oncallnova.incidents.escalation import Escalation


class EscalationReconciler:
    name = "escalation"

    def __init__(
        self, escalation: Escalation, metrics: Metrics | None = None, tracing: Tracing | None = None
    ) -> None:
        self._escalation = escalation
        self._metrics = metrics
        self._tracing = tracing or Tracing()

    async def run_once(self, now: datetime) -> int:
        # The idle poll is not traced (one trace a second would bury the ones that
        # matter); a pass with steps to take is one trace, its statements inside it.
        if not await self._escalation.has_due(now):
            return 0
        with self._tracing.tracer.start_as_current_span("engine.escalation") as span:
            steps = await self._escalation.run_due(now)
            span.set_attribute("incidents.count", steps)
        if steps and self._metrics is not None:
            self._metrics.escalations.inc(steps)  # counted once committed
        return steps
