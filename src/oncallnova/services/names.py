"""Service names by id, for display: kept for a moment, since names rarely change and
they are asked inside write transactions (a page's email, an incident's answer) that
should stay short."""

from __future__ import annotations

import time

from oncallnova.core.db import Database
from oncallnova.services import store


class ServiceNames:
    def __init__(self, db: Database, cache_seconds: float, max_size: int = 10_000) -> None:
        self._db = db
        self._seconds = max(cache_seconds, 1.0)
        self._max_size = max_size
        self._kept: dict[str, tuple[float, str]] = {}

    async def __call__(self, service_ids: list[str]) -> dict[str, str]:
        now = time.monotonic()
        wanted = [s for s in service_ids if self._kept.get(s, (0.0, ""))[0] <= now]
        if wanted:
            async with self._db.read() as session:
                found = await store.names(session, wanted)
            if len(self._kept) > self._max_size:
                self._kept.clear()
            for service_id, name in found.items():
                self._kept[service_id] = (now + self._seconds, name)
        return {s: self._kept[s][1] for s in service_ids if s in self._kept}

    def forget(self) -> None:
        """After a service is renamed or deleted in this process."""
        self._kept.clear()
