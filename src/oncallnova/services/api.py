"""What the service catalogue offers: its use cases (`CatalogService`), and the routes and
names other domains ask of it in process (`ServicesApi`).

The `…InTx` Protocols take an `AsyncSession` and run inside the caller's transaction,
in the same process; they never cross a wire. The `...Service` Protocols are the use
cases: a `Principal` and typed values in, typed values out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal
from oncallnova.core.shared_cache import Codec, Lookup, SharedLookups, Sharing
from oncallnova.services.schemas import (
    IntegrationKeyIn,
    IntegrationKeyOut,
    ServiceIn,
    ServiceOut,
    ServicePatch,
)


@dataclass(frozen=True)
class ServiceRoute:
    """Where an integration key sends alerts, and how they are grouped there."""

    service_id: str
    service_name: str
    correlation_key: tuple[str, ...]
    correlation_window_seconds: int
    escalation_policy_id: str | None = None
    # The key the route was found by: a front end that hands the alerts to another
    # process sends it along, and that process checks it again. Never shown.
    integration_key: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class ServiceTimeouts:
    """A service's acknowledgement timeout and auto-resolve delay, in seconds (None: off)."""

    service_id: str
    ack_timeout_seconds: int | None
    auto_resolve_seconds: int | None


def route_text(route: ServiceRoute | None) -> str:
    """A route as kept in a shared cache: JSON, without the key (a secret) it was found by."""
    if route is None:
        return "null"
    data = asdict(route)
    del data["integration_key"]
    return json.dumps(data)


def route_from_text(text: str, key: str) -> ServiceRoute | None:
    data = json.loads(text)
    if data is None:
        return None
    data["correlation_key"] = tuple(data["correlation_key"])
    return ServiceRoute(**data, integration_key=key)


# Integration key -> route, as kept in every process and in Redis (see core/shared_cache).
ROUTE_CODEC: Codec[ServiceRoute | None] = Codec(route_text, route_from_text)


def kept_routes(
    lookup: Lookup[ServiceRoute | None], seconds: float, sharing: Sharing | None
) -> SharedLookups[ServiceRoute | None]:
    """Key -> route lookups as every process keeps them (the one that owns the keys, and
    the front ends that ask it): shared, and dropped everywhere on a revoke."""
    return SharedLookups(lookup, name="routes", seconds=seconds, codec=ROUTE_CODEC, sharing=sharing)


class ServicesApi(Protocol):
    async def route_for_key(self, key: str) -> ServiceRoute | None:
        """The service an active integration key names, or None if unknown or revoked."""
        ...

    async def route_of(self, session: AsyncSession, service_id: str) -> ServiceRoute | None:
        """The route of alerts OnCallNova raises on a service itself; None if it is gone."""
        ...

    async def secrets_shown(self, who: Principal, service_ids: list[str]) -> set[str]:
        """The services among these whose secrets (integration keys, heartbeat URLs) `who`
        may see: every one for admins, their team's for responders, none for viewers."""
        ...

    async def timeouts(self, session: AsyncSession) -> list[ServiceTimeouts]:
        """The services that set an acknowledgement timeout or an auto-resolve delay."""
        ...

    async def names(self, service_ids: list[str]) -> dict[str, str]:
        """Service names by id, for display."""
        ...


class CatalogService(Protocol):
    async def list(self, actor: Principal) -> list[ServiceOut]: ...

    async def get(self, actor: Principal, service_id: str) -> ServiceOut: ...

    async def create(
        self, actor: Principal, data: ServiceIn
    ) -> tuple[ServiceOut, IntegrationKeyOut]: ...

    async def update(self, actor: Principal, service_id: str, data: ServicePatch) -> ServiceOut: ...

    async def delete(self, actor: Principal, service_id: str) -> None: ...

    async def add_key(
        self, actor: Principal, service_id: str, data: IntegrationKeyIn
    ) -> IntegrationKeyOut: ...

    async def revoke_key(
        self, actor: Principal, service_id: str, key_id: str
    ) -> IntegrationKeyOut: ...
