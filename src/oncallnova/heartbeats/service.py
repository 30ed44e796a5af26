"""Use cases of heartbeat monitors: manage them, record beats, and expire them.

A monitor is inactive until its first beat, so a new one cannot fire before the job it
watches has ever run. Each beat pushes its deadline one interval ahead. When the engine
finds a running monitor past its deadline it marks it expired and opens an alert on its
service in the same transaction, through the same path ingested alerts take (dedup,
correlation, silences, maintenance, escalation); the next beat resolves that alert.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.alerts.api import AlertWriter
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, InvalidInput, NotFound
from oncallnova.core.ids import new_id, new_secret
from oncallnova.core.retry import retry_conflicts
from oncallnova.heartbeats import store
from oncallnova.heartbeats.models import HeartbeatMonitor
from oncallnova.heartbeats.schemas import BeatOut, MonitorIn, MonitorOut, MonitorPatch
from oncallnova.services.api import ServicesApi

T = TypeVar("T")
BEAT_PATH = "/api/v1/heartbeats/"
NO_SUCH_MONITOR = "unknown heartbeat token"


def expiry_alert(monitor: HeartbeatMonitor, action: str = "trigger") -> NormalizedAlert:
    """The alert of a monitor's expiry; its resolve has the same dedup key."""
    last = monitor.last_beat_at
    when = last.strftime("%Y-%m-%d %H:%M:%S UTC") if last else "never"
    return NormalizedAlert(
        title=f"Heartbeat '{monitor.name}' expired; last beat at {when}",
        severity=monitor.severity,
        action=action,  # type: ignore[arg-type]
        source="heartbeat",
        description=f"No beat within {monitor.interval_seconds} s of the last one.",
        labels={"heartbeat": monitor.name},
        dedup_key=f"heartbeat:{monitor.id}",
        details={"monitor_id": monitor.id, "interval_seconds": monitor.interval_seconds},
    )


class HeartbeatService:
    """Implements `heartbeats.api.HeartbeatsService` and `BeatService`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        services: ServicesApi,
        writer: AlertWriter,
        *,
        base_url: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._services = services
        self._writer = writer
        self._base_url = base_url.rstrip("/")

    # --- use cases ---

    async def list(self, who: Principal, service_id: str | None = None) -> list[MonitorOut]:
        require(who, Role.viewer)
        async with self._db.read() as session:
            rows = await store.listing(session, service_id)
        return await self._out(who, rows)

    async def get(self, who: Principal, monitor_id: str) -> MonitorOut:
        require(who, Role.viewer)
        async with self._db.read() as session:
            row = await _require(session, monitor_id)
        return (await self._out(who, [row]))[0]

    async def create(self, who: Principal, data: MonitorIn) -> MonitorOut:
        require(who, Role.admin)
        now = self._clock.now()
        row = HeartbeatMonitor(
            id=new_id(),
            service_id=data.service_id,
            name=data.name,
            interval_seconds=data.interval_seconds,
            severity=data.severity,
            token=new_secret(),
            state=store.INACTIVE,
            last_beat_at=None,
            expires_at=None,
            expired_at=None,
            created_at=now,
            updated_at=now,
        )

        async def work(session: AsyncSession) -> HeartbeatMonitor:
            if await self._services.route_of(session, data.service_id) is None:
                raise InvalidInput(f"service {data.service_id} not found", field="service_id")
            await _unique(session, data.service_id, data.name, None)
            session.add(row)
            note(session, who, "heartbeat.create", "heartbeat", row.id, {"name": data.name})
            return row

        return (await self._out(who, [await self._write(work, naming=True)]))[0]

    async def update(self, who: Principal, monitor_id: str, data: MonitorPatch) -> MonitorOut:
        require(who, Role.admin)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)

        async def work(session: AsyncSession) -> HeartbeatMonitor:
            row = await _require(session, monitor_id, lock=True)
            if "name" in changes:
                await _unique(session, row.service_id, changes["name"], row.id)
            for field, value in changes.items():
                setattr(row, field, value)
            if row.state == store.UP and row.last_beat_at is not None:
                row.expires_at = row.last_beat_at + timedelta(seconds=row.interval_seconds)
            row.updated_at = self._clock.now()
            note(session, who, "heartbeat.update", "heartbeat", row.id, {"fields": sorted(changes)})
            return row

        return (await self._out(who, [await self._write(work, naming=True)]))[0]

    async def delete(self, who: Principal, monitor_id: str) -> None:
        """Deletes the monitor; the alert of an expiry still open is resolved with it."""
        require(who, Role.admin)

        async def work(session: AsyncSession) -> HeartbeatMonitor:
            row = await _require(session, monitor_id, lock=True)
            if row.state == store.EXPIRED:
                await self._raise(session, row, "resolve", "heartbeat deleted")
            note(session, who, "heartbeat.delete", "heartbeat", row.id, {"name": row.name})
            await session.delete(row)
            return row

        await self._write(work)

    async def beat(self, token: str) -> BeatOut:
        """Record a beat: the deadline moves one interval ahead, and the alert of an
        expiry is resolved. `NotFound` for an unknown token."""

        async def work(session: AsyncSession) -> BeatOut:
            row = await store.by_token(session, token)
            if row is None:
                raise NotFound(NO_SUCH_MONITOR)
            now = self._clock.now()
            resolved = row.state == store.EXPIRED
            row.state = store.UP
            row.last_beat_at = now
            row.expires_at = now + timedelta(seconds=row.interval_seconds)
            if resolved:
                await self._raise(session, row, "resolve", f"heartbeat:{row.name}")
            return BeatOut(
                monitor=row.name, state="up", expires_at=row.expires_at, resolved=resolved
            )

        return await self._write(work)

    # --- the engine ---

    async def has_due(self, now: datetime) -> bool:
        async with self._db.read() as session:
            return await store.any_due(session, now)

    async def expire_due(self, now: datetime, limit: int = 100) -> int:
        """Expire every running monitor past its deadline at `now`, each opening its
        alert; returns how many expired."""
        total = 0
        while True:

            async def work(session: AsyncSession) -> int:
                due = await store.claim_due(session, now, limit)
                for row in due:
                    row.state, row.expired_at = store.EXPIRED, now
                    await self._raise(session, row, "trigger", f"heartbeat:{row.name}", now)
                return len(due)

            done = await self._write(work)
            total += done
            if done < limit:
                return total

    async def states(self) -> list[MonitorOut]:
        """Every monitor as the system sees it (for /metrics; no token)."""
        async with self._db.read() as session:
            rows = await store.listing(session)
        return await self._out(None, rows)

    # --- helpers ---

    async def _raise(
        self,
        session: AsyncSession,
        row: HeartbeatMonitor,
        action: str,
        actor: str,
        now: datetime | None = None,
    ) -> None:
        route = await self._services.route_of(session, row.service_id)
        if route is not None:
            alert = expiry_alert(row, action)
            await self._writer.store_in(session, route, [alert], actor, now or self._clock.now())

    async def _write(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, naming: bool = False
    ) -> T:
        """Run `work` in a write transaction, again on a transient conflict. When it
        names a monitor (`naming`), a race to the same name is the 409 it would be."""

        async def attempt() -> T:
            async with self._db.write() as session:
                return await work(session)

        try:
            return await retry_conflicts(attempt)
        except IntegrityError as exc:
            if not naming:
                raise
            raise Conflict("a monitor of that name exists on the service", field="name") from exc

    async def _out(self, who: Principal | None, rows: list[HeartbeatMonitor]) -> list[MonitorOut]:
        ids = sorted({r.service_id for r in rows})
        names = await self._services.names(ids) if rows else {}
        # A beat resolves an expiry's alert, so its URL is shown as integration keys are.
        shown = await self._services.secrets_shown(who, ids) if who is not None else set()
        return [
            MonitorOut(
                id=r.id,
                service_id=r.service_id,
                service_name=names.get(r.service_id),
                name=r.name,
                interval_seconds=r.interval_seconds,
                severity=r.severity,  # type: ignore[arg-type]
                state=r.state,  # type: ignore[arg-type]
                last_beat_at=r.last_beat_at,
                expires_at=r.expires_at,
                expired_at=r.expired_at,
                token=r.token if r.service_id in shown else None,
                url=f"{self._base_url}{BEAT_PATH}{r.token}" if r.service_id in shown else None,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]


async def _require(
    session: AsyncSession, monitor_id: str, *, lock: bool = False
) -> HeartbeatMonitor:
    row = await store.get(session, monitor_id, lock=lock)
    if row is None:
        raise NotFound(f"heartbeat monitor {monitor_id} not found")
    return row


async def _unique(session: AsyncSession, service_id: str, name: str, own: str | None) -> None:
    found = await store.by_name(session, service_id, name)
    if found is not None and found.id != own:
        raise Conflict(f"the service already has a monitor named '{name}'", field="name")
