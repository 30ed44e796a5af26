"""What silences and maintenance windows offer the transports: their use cases (a
`Principal` and typed values in, typed values out).

Ingestion and the escalation engine reach them in process through
`incidents.api.QuietSource` (implemented by `active.QuietCache`).
"""

from __future__ import annotations

from typing import Protocol

from oncallnova.core.authz import Principal
from oncallnova.suppression.schemas import (
    SilenceDraft,
    SilenceIn,
    SilenceOut,
    SilencePatch,
    WindowIn,
    WindowOut,
    WindowPatch,
)


class SilencesService(Protocol):
    async def list(
        self, who: Principal, *, service_id: str | None = None, status: list[str] | None = None
    ) -> list[SilenceOut]:
        """Newest end first; `status` keeps only pending, active or expired ones."""
        ...

    async def get(self, who: Principal, silence_id: str) -> SilenceOut: ...

    async def create(self, who: Principal, data: SilenceIn) -> SilenceOut:
        """Applied at once when it starts now: what it covers stops paging."""
        ...

    async def update(self, who: Principal, silence_id: str, data: SilencePatch) -> SilenceOut:
        """`Conflict` once it has expired."""
        ...

    async def end(self, who: Principal, silence_id: str, reason: str | None = None) -> None:
        """Expire an active silence now (kept); remove a pending or expired one."""
        ...

    async def draft(self, who: Principal, incident_id: str) -> SilenceDraft:
        """A silence of the incident's alert, filled in from its labels, to review."""
        ...


class MaintenanceService(Protocol):
    async def list(
        self, who: Principal, *, service_id: str | None = None, status: list[str] | None = None
    ) -> list[WindowOut]:
        """Latest start first; `status` keeps only scheduled, active or ended ones."""
        ...

    async def get(self, who: Principal, window_id: str) -> WindowOut: ...

    async def create(self, who: Principal, data: WindowIn) -> WindowOut:
        """Applied at once when it starts now: its services' incidents stop paging."""
        ...

    async def update(self, who: Principal, window_id: str, data: WindowPatch) -> WindowOut:
        """`Conflict` once it has ended."""
        ...

    async def end(self, who: Principal, window_id: str, reason: str | None = None) -> None:
        """End a running window now (kept, no further occurrences); remove another."""
        ...
