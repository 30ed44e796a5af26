"""Reconciler: take the escalation steps that are due."""

from __future__ import annotations

from datetime import datetime

from oncallnova.core.metrics import Metrics
from oncallnova.incidents.escalation import Escalation


class EscalationReconciler:
    name = "escalation"

    def __init__(self, escalation: Escalation, metrics: Metrics | None = None) -> None:
        self._escalation = escalation
        self._metrics = metrics

    async def run_once(self, now: datetime) -> int:
        steps = await self._escalation.run_due(now)
        if steps and self._metrics is not None:
            self._metrics.escalations.inc(steps)  # counted once committed
        return steps
