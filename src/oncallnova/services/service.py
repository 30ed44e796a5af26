"""Use cases of the service catalogue: services and their integration keys."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, InvalidInput, NotFound
from oncallnova.core.ids import new_id, new_integration_key
from oncallnova.core.retry import retry_conflicts
from oncallnova.core.shared_cache import Sharing
from oncallnova.incidents.api import IncidentsInTx
from oncallnova.oncall.api import PoliciesInTx
from oncallnova.services import store
from oncallnova.services.api import ServiceRoute, ServiceTimeouts, kept_routes
from oncallnova.services.models import IntegrationKey, Service
from oncallnova.services.names import ServiceNames
from oncallnova.services.schemas import (
    IntegrationKeyIn,
    IntegrationKeyOut,
    ServiceIn,
    ServiceOut,
    ServicePatch,
)
from oncallnova.users.api import UsersInTx

DEFAULT_CORRELATION_KEY = ["service", "severity"]


class ServiceCatalog:
    """Services, integration keys, and the key -> service lookup ingestion relies on."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        incidents: IncidentsInTx,
        users: UsersInTx,
        policies: PoliciesInTx,
        names: ServiceNames,
        *,
        default_window_seconds: int,
        key_cache_seconds: float,
        sharing: Sharing | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._incidents = incidents
        self._users = users
        self._policies = policies
        self._default_window = default_window_seconds
        self._cache_seconds = key_cache_seconds
        # A revoke, or a change to a service, reaches every process's kept routes at once.
        self._routes = kept_routes(self._look_up, key_cache_seconds, sharing)
        self._names = names

    async def create(
        self, actor: Principal, data: ServiceIn
    ) -> tuple[ServiceOut, IntegrationKeyOut]:
        require(actor, Role.admin)
        now = self._clock.now()
        service = Service(
            id=new_id(),
            name=data.name,
            description=data.description,
            correlation_key=data.correlation_key or list(DEFAULT_CORRELATION_KEY),
            correlation_window_seconds=(
                self._default_window
                if data.correlation_window_seconds is None
                else data.correlation_window_seconds
            ),
            team_id=data.team_id,
            escalation_policy_id=data.escalation_policy_id,
            ack_timeout_seconds=data.ack_timeout_seconds,
            auto_resolve_seconds=data.auto_resolve_seconds,
            created_at=now,
            updated_at=now,
        )
        key = IntegrationKey(
            id=new_id(),
            service_id=service.id,
            key=new_integration_key(),
            name="default",
            created_at=now,
            revoked_at=None,
        )
        try:
            async with self._db.write() as session:
                await _ensure_unique_name(session, data.name, None)
                await self._check_links(session, data.team_id, data.escalation_policy_id)
                session.add(service)
                await session.flush()
                session.add(key)
                note(session, actor, "service.create", "service", service.id, {"name": data.name})
        except IntegrityError as exc:
            raise Conflict(f"a service named '{data.name}' already exists", field="name") from exc
        key_out = IntegrationKeyOut.model_validate(key)
        return _out(service, [key]), key_out

    async def get(self, actor: Principal, service_id: str) -> ServiceOut:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            service = await _require(session, service_id)
            shown = await self._key_readers(session, actor)
            return _out(service, await store.keys_of(session, [service_id]), shown)

    async def list(self, actor: Principal) -> list[ServiceOut]:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            services = await store.list_all(session)
            keys = await store.keys_of(session, [s.id for s in services])
            shown = await self._key_readers(session, actor)
        by_service: dict[str, list[IntegrationKey]] = {}
        for key in keys:
            by_service.setdefault(key.service_id, []).append(key)
        return [_out(s, by_service.get(s.id, []), shown) for s in services]

    async def _key_readers(
        self, session: AsyncSession, actor: Principal
    ) -> Callable[[Service], bool]:
        """Whether `actor` sees a service's integration key values. A key opens and
        resolves the service's incidents, so it is shown only to whom may do that with it:
        admins, and responders of the service's team. Viewers never see one: a key would
        let them resolve incidents the lifecycle forbids them to touch."""
        if actor.role >= Role.admin:
            return lambda _: True
        if actor.role < Role.responder:
            return lambda _: False
        teams = await self._users.team_ids_of(session, actor.user_id)
        return lambda service: service.team_id is not None and service.team_id in teams

    async def update(self, actor: Principal, service_id: str, data: ServicePatch) -> ServiceOut:
        require(actor, Role.admin)
        changes = data.model_dump(exclude_unset=True)
        try:
            async with self._db.write() as session:
                service = await _require(session, service_id)
                if changes.get("name") is not None:
                    await _ensure_unique_name(session, changes["name"], service_id)
                for field in ("name", "correlation_key", "correlation_window_seconds"):
                    if changes.get(field) is not None:
                        setattr(service, field, changes[field])
                if "description" in changes:
                    service.description = changes["description"]
                await self._check_links(
                    session, changes.get("team_id"), changes.get("escalation_policy_id")
                )
                for field in (
                    "team_id",
                    "escalation_policy_id",
                    "ack_timeout_seconds",
                    "auto_resolve_seconds",
                ):
                    if field in changes:
                        setattr(service, field, changes[field])
                store.touch(service, self._clock.now())
                keys = await store.keys_of(session, [service_id])
                note(
                    session,
                    actor,
                    "service.update",
                    "service",
                    service_id,
                    {"fields": sorted(changes)},
                )
        except IntegrityError as exc:
            raise Conflict("a service with that name already exists", field="name") from exc
        await self._routes.invalidate()
        self._names.forget()
        return _out(service, keys)

    async def delete(self, actor: Principal, service_id: str) -> None:
        require(actor, Role.admin)

        async def attempt() -> None:
            async with self._db.write() as session:
                await _require(session, service_id)
                open_count = await self._incidents.count_open(session, service_id)
                if open_count:
                    raise Conflict(
                        f"the service has {open_count} open incident(s); resolve them first"
                    )
                await store.remove(session, service_id)
                note(session, actor, "service.delete", "service", service_id)

        # The delete cascades through the service's incidents, alerts and deliveries, whose
        # rows the engine and the dispatcher may be locking meanwhile: PostgreSQL can then
        # end one side with a deadlock, and this side starts again.
        await retry_conflicts(attempt)
        await self._routes.invalidate()

    async def add_key(
        self, actor: Principal, service_id: str, data: IntegrationKeyIn
    ) -> IntegrationKeyOut:
        require(actor, Role.admin)
        async with self._db.write() as session:
            await _require(session, service_id)
            key = IntegrationKey(
                id=new_id(),
                service_id=service_id,
                key=new_integration_key(),
                name=data.name,
                created_at=self._clock.now(),
                revoked_at=None,
            )
            session.add(key)
            note(
                session, actor, "integration_key.create", "service", service_id, {"key_id": key.id}
            )
        return IntegrationKeyOut.model_validate(key)

    async def revoke_key(self, actor: Principal, service_id: str, key_id: str) -> IntegrationKeyOut:
        require(actor, Role.admin)
        async with self._db.write() as session:
            await _require(session, service_id)
            key = await store.key_by_id(session, service_id, key_id)
            if key is None:
                raise NotFound(f"integration key {key_id} not found on this service")
            if key.revoked_at is None:
                key.revoked_at = self._clock.now()
            note(
                session, actor, "integration_key.revoke", "service", service_id, {"key_id": key_id}
            )
        await self._routes.invalidate(key.key)
        return IntegrationKeyOut.model_validate(key)

    async def route_for_key(self, key: str) -> ServiceRoute | None:
        return await self._routes.get(key)

    async def _look_up(self, key: str) -> ServiceRoute | None:
        async with self._db.read() as session:
            found = await store.active_key(session, key)
        return _route(found[1], key) if found is not None else None

    async def route_of(self, session: AsyncSession, service_id: str) -> ServiceRoute | None:
        service = await store.get(session, service_id)
        return _route(service) if service is not None else None

    async def secrets_shown(self, who: Principal, service_ids: list[str]) -> set[str]:
        if not service_ids or who.role < Role.responder:
            return set()
        async with self._db.read() as session:
            shown = await self._key_readers(session, who)
            return {s.id for s in await store.by_ids(session, service_ids) if shown(s)}

    async def timeouts(self, session: AsyncSession) -> list[ServiceTimeouts]:
        return [
            ServiceTimeouts(s.id, s.ack_timeout_seconds, s.auto_resolve_seconds)
            for s in await store.with_timeouts(session)
        ]

    async def _check_links(
        self, session: AsyncSession, team_id: str | None, policy_id: str | None
    ) -> None:
        if team_id and not await self._users.team_exists(session, team_id):
            raise InvalidInput(f"team {team_id} not found", field="team_id")
        if policy_id and not await self._policies.exists(session, policy_id):
            raise InvalidInput(
                f"escalation policy {policy_id} not found", field="escalation_policy_id"
            )

    async def names(self, service_ids: list[str]) -> dict[str, str]:
        """Service names by id, for display (kept for a moment: see `names.py`)."""
        return await self._names(service_ids)


def _route(service: Service, key: str = "") -> ServiceRoute:
    return ServiceRoute(
        service_id=service.id,
        service_name=service.name,
        correlation_key=tuple(service.correlation_key),
        correlation_window_seconds=service.correlation_window_seconds,
        escalation_policy_id=service.escalation_policy_id,
        integration_key=key,
    )


async def _require(session: AsyncSession, service_id: str) -> Service:
    service = await store.get(session, service_id)
    if service is None:
        raise NotFound(f"service {service_id} not found")
    return service


async def _ensure_unique_name(session: AsyncSession, name: str, own_id: str | None) -> None:
    existing = await store.by_name(session, name)
    if existing is not None and existing.id != own_id:
        raise Conflict(f"a service named '{name}' already exists", field="name")


def _out(
    service: Service, keys: list[IntegrationKey], shown: Callable[[Service], bool] | None = None
) -> ServiceOut:
    out = ServiceOut.model_validate(service)
    out.integration_keys = [IntegrationKeyOut.model_validate(k) for k in keys]
    if shown is not None and not shown(service):
        for key in out.integration_keys:
            key.key = None
    return out
