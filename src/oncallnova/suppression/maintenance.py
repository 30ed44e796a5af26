"""Use cases of maintenance windows: create, read, change and end them.

A window that is running when it is created or changed is applied in the same
transaction: the open incidents of its services stop paging at once, and those it no
longer covers page again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, InvalidInput, NotFound
from oncallnova.core.ids import new_id
from oncallnova.incidents.api import HoldScope, HoldsInTx
from oncallnova.services.api import ServicesApi
from oncallnova.suppression import history, store, unit
from oncallnova.suppression.active import QuietCache
from oncallnova.suppression.models import MaintenanceWindow
from oncallnova.suppression.schemas import (
    HistoryEntry,
    WindowIn,
    WindowOut,
    WindowPatch,
    WindowStatus,
)

KIND = "maintenance_window"
PERIOD_DAYS = {"daily": 1, "weekly": 7}


def status_of(window: MaintenanceWindow, now: datetime) -> WindowStatus:
    if now >= window.ends_at:
        return "ended"
    return "active" if now >= window.starts_at else "scheduled"


def next_occurrence(window: MaintenanceWindow, now: datetime) -> tuple[datetime, datetime]:
    """The first occurrence of a recurring window that ends after `now`: a day or a week
    later at the same wall-clock time in its zone, lasting as long."""
    zone = ZoneInfo(window.time_zone)
    days = PERIOD_DAYS[window.recurrence or "daily"]
    length = window.ends_at - window.starts_at
    local = window.starts_at.astimezone(zone).replace(tzinfo=None)
    step = 1
    while True:
        starts = (local + timedelta(days=days * step)).replace(tzinfo=zone).astimezone(UTC)
        if starts + length > now:
            return starts, starts + length
        step += 1


def _check_times(window: MaintenanceWindow, now: datetime) -> None:
    if window.ends_at <= window.starts_at:
        raise InvalidInput("ends_at: must be after starts_at", field="ends_at")
    if window.ends_at <= now:
        raise InvalidInput("ends_at: must be in the future", field="ends_at")
    days = PERIOD_DAYS.get(window.recurrence or "")
    if days and window.ends_at - window.starts_at >= timedelta(days=days):
        raise InvalidInput(
            f"ends_at: a {window.recurrence} window must last less than {days} day(s)",
            field="ends_at",
        )


def scope_of(window: MaintenanceWindow, services: list[str], now: datetime) -> HoldScope:
    """The incidents to look at again after the window changed: those it holds, and
    while it runs those of its services."""
    running = status_of(window, now) == "active"
    return HoldScope(service_ids=tuple(services) if running else (), window_id=window.id)


class MaintenanceService:
    """Implements `suppression.api.MaintenanceService`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        services: ServicesApi,
        holds: HoldsInTx,
        cache: QuietCache,
    ) -> None:
        self._db = db
        self._clock = clock
        self._services = services
        self._holds = holds
        self._cache = cache

    async def list(
        self, who: Principal, *, service_id: str | None = None, status: list[str] | None = None
    ) -> list[WindowOut]:
        require(who, Role.viewer)
        async with self._db.read() as session:
            rows = await store.windows(session, service_id)
            services = await store.services_of(session, [r.id for r in rows])
        out = await self._out(rows, services)
        return [w for w in out if not status or w.status in status]

    async def get(self, who: Principal, window_id: str) -> WindowOut:
        require(who, Role.viewer)
        async with self._db.read() as session:
            row = await _require(session, window_id)
            services = await store.services_of(session, [window_id])
        return (await self._out([row], services))[0]

    async def create(self, who: Principal, data: WindowIn) -> WindowOut:
        require(who, Role.responder)
        now = self._clock.now()
        service_ids = sorted(set(data.service_ids))
        row = MaintenanceWindow(
            id=new_id(),
            description=data.description,
            starts_at=data.starts_at or now,
            ends_at=data.ends_at,
            recurrence=data.recurrence,
            time_zone=data.time_zone,
            phase=store.SCHEDULED,
            created_by=who.label,
            created_at=now,
            updated_at=now,
            history=[],
        )
        _check_times(row, now)

        async def work(session: AsyncSession) -> MaintenanceWindow:
            await self._check_services(session, service_ids)
            row.phase = store.ACTIVE if row.starts_at <= now else store.SCHEDULED
            session.add(row)
            await session.flush()
            await store.set_services(session, row.id, service_ids)
            history.audited(session, who, row, KIND, "created", now, data.description)
            await unit.reapply(
                session, self._cache, self._holds, now, who.label, scope_of(row, service_ids, now)
            )
            return row

        await unit.write(self._db, self._cache, work, "service_ids")
        return (await self._out([row], {row.id: service_ids}))[0]

    async def update(self, who: Principal, window_id: str, data: WindowPatch) -> WindowOut:
        require(who, Role.responder)
        changes = data.model_dump(exclude_unset=True)
        reason = changes.pop("reason", None)
        kept: list[str] = []

        async def work(session: AsyncSession) -> MaintenanceWindow:
            now = self._clock.now()
            row = await _require(session, window_id, lock=True)
            if status_of(row, now) == "ended":
                raise Conflict("the maintenance window has ended; create a new one")
            services = (await store.services_of(session, [window_id]))[window_id]
            previous = scope_of(row, services, now)
            for field in ("starts_at", "ends_at", "description", "time_zone"):
                if changes.get(field) is not None:
                    setattr(row, field, changes[field])
            if "recurrence" in changes:
                row.recurrence = changes["recurrence"]
            _check_times(row, now)
            if changes.get("service_ids") is not None:
                services = sorted(set(changes["service_ids"]))
                await self._check_services(session, services)
                await store.set_services(session, window_id, services)
            row.phase = store.ACTIVE if row.starts_at <= now else store.SCHEDULED
            row.updated_at = now
            history.audited(session, who, row, KIND, "updated", now, reason, changes)
            await session.flush()
            await unit.reapply(
                session,
                self._cache,
                self._holds,
                now,
                who.label,
                scope_of(row, services, now),
                previous,
            )
            kept[:] = services
            return row

        row = await unit.write(self._db, self._cache, work, "service_ids")
        return (await self._out([row], {row.id: kept}))[0]

    async def end(self, who: Principal, window_id: str, reason: str | None = None) -> None:
        """A running window ends now (and is kept, ended, with no further occurrences);
        a scheduled or ended one is removed."""
        require(who, Role.responder)

        async def work(session: AsyncSession) -> MaintenanceWindow:
            now = self._clock.now()
            row = await _require(session, window_id, lock=True)
            if status_of(row, now) != "active":
                history.audited(session, who, row, KIND, "removed", now, reason)
                await session.delete(row)
            else:
                row.ends_at, row.recurrence, row.phase = now, None, store.ENDED
                row.updated_at = now
                history.audited(session, who, row, KIND, "ended", now, reason)
            await session.flush()
            # Whatever it still holds (an end the engine has not acted on yet) goes.
            await unit.reapply(
                session, self._cache, self._holds, now, who.label, scope_of(row, [], now)
            )
            return row

        await unit.write(self._db, self._cache, work, "service_ids")

    # --- helpers ---

    async def _check_services(self, session: AsyncSession, service_ids: list[str]) -> None:
        for service_id in service_ids:
            if await self._services.route_of(session, service_id) is None:
                raise InvalidInput(f"service {service_id} not found", field="service_ids")

    async def _out(
        self, rows: list[MaintenanceWindow], services: dict[str, list[str]]
    ) -> list[WindowOut]:
        now = self._clock.now()
        ids = sorted({s for r in rows for s in services.get(r.id, [])})
        names = await self._services.names(ids) if ids else {}
        return [
            WindowOut(
                id=r.id,
                service_ids=services.get(r.id, []),
                service_names=[names.get(s, "deleted service") for s in services.get(r.id, [])],
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                description=r.description,
                recurrence=r.recurrence,  # type: ignore[arg-type]
                time_zone=r.time_zone,
                status=status_of(r, now),
                created_by=r.created_by,
                created_at=r.created_at,
                updated_at=r.updated_at,
                history=[HistoryEntry(**h) for h in r.history or []],
            )
            for r in rows
        ]


async def _require(
    session: AsyncSession, window_id: str, *, lock: bool = False
) -> MaintenanceWindow:
    row = await store.window(session, window_id, lock=lock)
    if row is None:
        raise NotFound(f"maintenance window {window_id} not found")
    return row
