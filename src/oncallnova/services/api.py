"""What other domains may ask of the service catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ServiceRoute:
    """Where an integration key sends alerts, and how they are grouped there."""

    service_id: str
    service_name: str
    correlation_key: tuple[str, ...]
    correlation_window_seconds: int
    escalation_policy_id: str | None = None


class ServicesApi(Protocol):
    async def route_for_key(self, key: str) -> ServiceRoute | None:
        """The service an active integration key names, or None if unknown or revoked."""
        ...

    async def names(self, service_ids: list[str]) -> dict[str, str]:
        """Service names by id, for display."""
        ...
