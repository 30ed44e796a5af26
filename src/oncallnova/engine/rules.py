"""Reconcilers of personal notifications: fire the notification rules that are due, and
send the shift reminders whose time has come."""

from __future__ import annotations

from datetime import datetime

from oncallnova.core.tracing import Tracing
from oncallnova.notify.paging import Paging
from oncallnova.notify.reminders import ShiftReminders


class RulesReconciler:
    name = "rules"

    def __init__(self, paging: Paging, tracing: Tracing | None = None) -> None:
        self._paging = paging
        self._tracing = tracing or Tracing()

    async def run_once(self, now: datetime) -> int:
        # The idle poll is a cheap read and is not traced.
        if not await self._paging.has_due(now):
            return 0
        with self._tracing.tracer.start_as_current_span("engine.rules") as span:
            written = await self._paging.run_due(now)
            span.set_attribute("notifications.count", written)
        return written


class RemindersReconciler:
    name = "reminders"

    def __init__(self, reminders: ShiftReminders) -> None:
        self._reminders = reminders

    async def run_once(self, now: datetime) -> int:
        return await self._reminders.send_due(now)
