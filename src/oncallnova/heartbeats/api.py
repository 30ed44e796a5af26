"""What heartbeat monitors offer the transports: managing them (`HeartbeatsService`,
signed-in users) and beating (`BeatService`: the token in the URL is the credential)."""

from __future__ import annotations

from typing import Protocol

from oncallnova.core.authz import Principal
from oncallnova.heartbeats.schemas import BeatOut, MonitorIn, MonitorOut, MonitorPatch


class HeartbeatsService(Protocol):
    async def list(self, who: Principal, service_id: str | None = None) -> list[MonitorOut]: ...

    async def get(self, who: Principal, monitor_id: str) -> MonitorOut: ...

    async def create(self, who: Principal, data: MonitorIn) -> MonitorOut:
        """The new monitor, inactive until its first beat, with its `token` and `url`."""
        ...

    async def update(self, who: Principal, monitor_id: str, data: MonitorPatch) -> MonitorOut: ...

    async def delete(self, who: Principal, monitor_id: str) -> None:
        """The alert of an expiry still open is resolved with it."""
        ...


class BeatService(Protocol):
    async def beat(self, token: str) -> BeatOut:
        """Record a beat; resolves the alert of an expiry. `NotFound` for an unknown token."""
        ...
