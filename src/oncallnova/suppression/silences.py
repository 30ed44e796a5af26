"""Use cases of silences: create, read, change and end them, and draft one from an incident.

A silence that is running when it is created or changed is applied in the same
transaction: the open incidents it now covers stop paging and those it no longer covers
page again, without waiting for the engine.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, InvalidInput, NotFound
from oncallnova.core.ids import new_id
from oncallnova.incidents.api import HoldScope, HoldsInTx, IncidentsService
from oncallnova.services.api import ServicesApi
from oncallnova.suppression import history, store, unit
from oncallnova.suppression.active import QuietCache
from oncallnova.suppression.models import Silence
from oncallnova.suppression.schemas import (
    HistoryEntry,
    MatcherOut,
    SilenceDraft,
    SilenceIn,
    SilenceOut,
    SilencePatch,
    SilenceStatus,
)

KIND = "silence"
DRAFT_HOURS = 2  # as Alertmanager's form proposes


def status_of(silence: Silence, now: datetime) -> SilenceStatus:
    if now >= silence.ends_at:
        return "expired"
    return "active" if now >= silence.starts_at else "pending"


def scope_of(silence: Silence, now: datetime) -> HoldScope:
    """The incidents to look at again after the silence changed: those it holds, and
    while it runs those it may cover."""
    running = status_of(silence, now) == "active"
    return HoldScope(
        service_ids=(silence.service_id,) if running and silence.service_id else (),
        all_services=running and silence.service_id is None,
        silence_id=silence.id,
    )


class SilenceService:
    """Implements `suppression.api.SilencesService`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        services: ServicesApi,
        holds: HoldsInTx,
        incidents: IncidentsService,
        cache: QuietCache,
    ) -> None:
        self._db = db
        self._clock = clock
        self._services = services
        self._holds = holds
        self._incidents = incidents
        self._cache = cache

    async def list(
        self, who: Principal, *, service_id: str | None = None, status: list[str] | None = None
    ) -> list[SilenceOut]:
        require(who, Role.viewer)
        async with self._db.read() as session:
            rows = await store.silences(session, service_id)
        out = await self._out(rows)
        return [s for s in out if not status or s.status in status]

    async def get(self, who: Principal, silence_id: str) -> SilenceOut:
        require(who, Role.viewer)
        async with self._db.read() as session:
            row = await _require(session, silence_id)
        return (await self._out([row]))[0]

    async def create(self, who: Principal, data: SilenceIn) -> SilenceOut:
        require(who, Role.responder)
        now = self._clock.now()
        starts_at = data.starts_at or now
        if data.ends_at <= now:
            raise InvalidInput("ends_at: must be in the future", field="ends_at")
        if data.ends_at <= starts_at:
            raise InvalidInput("ends_at: must be after starts_at", field="ends_at")
        row = Silence(
            id=new_id(),
            matchers=[m.model_dump() for m in data.matchers],
            service_id=data.service_id,
            comment=data.comment,
            starts_at=starts_at,
            ends_at=data.ends_at,
            phase=store.ACTIVE if starts_at <= now else store.PENDING,
            created_by=who.label,
            created_at=now,
            updated_at=now,
            history=[],
        )

        async def work(session: AsyncSession) -> Silence:
            await self._check_service(session, data.service_id)
            session.add(row)
            history.audited(session, who, row, KIND, "created", now, data.comment)
            await session.flush()
            await unit.reapply(
                session, self._cache, self._holds, now, who.label, scope_of(row, now)
            )
            return row

        return (await self._out([await unit.write(self._db, self._cache, work, "service_id")]))[0]

    async def update(self, who: Principal, silence_id: str, data: SilencePatch) -> SilenceOut:
        require(who, Role.responder)
        changes = data.model_dump(exclude_unset=True)
        reason = changes.pop("reason", None)

        async def work(session: AsyncSession) -> Silence:
            now = self._clock.now()
            row = await _require(session, silence_id, lock=True)
            if status_of(row, now) == "expired":
                raise Conflict("the silence has expired; create a new one")
            previous = scope_of(row, now)
            if "service_id" in changes:
                await self._check_service(session, changes["service_id"])
            for field in ("matchers", "starts_at", "ends_at", "comment"):
                if changes.get(field) is not None:
                    setattr(row, field, changes[field])
            if "service_id" in changes:
                row.service_id = changes["service_id"]
            if row.ends_at <= row.starts_at:
                raise InvalidInput("ends_at: must be after starts_at", field="ends_at")
            if row.ends_at <= now:
                raise InvalidInput("ends_at: must be in the future", field="ends_at")
            row.phase = store.ACTIVE if row.starts_at <= now else store.PENDING
            row.updated_at = now
            history.audited(session, who, row, KIND, "updated", now, reason, changes)
            await session.flush()
            await unit.reapply(
                session, self._cache, self._holds, now, who.label, scope_of(row, now), previous
            )
            return row

        return (await self._out([await unit.write(self._db, self._cache, work, "service_id")]))[0]

    async def end(self, who: Principal, silence_id: str, reason: str | None = None) -> None:
        """An active silence expires now (and is kept, expired); a pending or expired one
        is removed."""
        require(who, Role.responder)

        async def work(session: AsyncSession) -> Silence:
            now = self._clock.now()
            row = await _require(session, silence_id, lock=True)
            if status_of(row, now) != "active":
                history.audited(session, who, row, KIND, "removed", now, reason)
                await session.delete(row)
            else:
                row.ends_at = now
                row.phase = store.EXPIRED
                row.updated_at = now
                history.audited(session, who, row, KIND, "ended", now, reason)
            await session.flush()
            # Whatever it still holds (an expiry the engine has not acted on yet) goes.
            await unit.reapply(
                session, self._cache, self._holds, now, who.label, scope_of(row, now)
            )
            return row

        await unit.write(self._db, self._cache, work, "service_id")

    async def draft(self, who: Principal, incident_id: str) -> SilenceDraft:
        """A silence of an incident's alerts: its first alert's labels as `=` matchers
        (its title when it has no labels), within its service, for the next two hours."""
        require(who, Role.viewer)
        incident = await self._incidents.detail(who, incident_id)
        first = incident.alerts[0] if incident.alerts else None
        labels = dict(first.labels) if first is not None and first.labels else {}
        if not labels:
            labels = {"title": first.title if first is not None else incident.title}
        now = self._clock.now()
        return SilenceDraft(
            matchers=[MatcherOut(name=k, op="=", value=v) for k, v in sorted(labels.items())],
            starts_at=now,
            ends_at=now + timedelta(hours=DRAFT_HOURS),
            service_id=incident.service_id,
            comment="",
            incident_id=incident.id,
        )

    # --- helpers ---

    async def _check_service(self, session: AsyncSession, service_id: str | None) -> None:
        if service_id is not None and await self._services.route_of(session, service_id) is None:
            raise InvalidInput(f"service {service_id} not found", field="service_id")

    async def _out(self, rows: list[Silence]) -> list[SilenceOut]:
        now = self._clock.now()
        ids = sorted({r.service_id for r in rows if r.service_id})
        names = await self._services.names(ids) if ids else {}
        return [
            SilenceOut(
                id=r.id,
                matchers=[MatcherOut.model_validate(m) for m in r.matchers],
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                service_id=r.service_id,
                service_name=names.get(r.service_id or ""),
                comment=r.comment,
                status=status_of(r, now),
                created_by=r.created_by,
                created_at=r.created_at,
                updated_at=r.updated_at,
                history=[HistoryEntry(**h) for h in r.history or []],
            )
            for r in rows
        ]


async def _require(session: AsyncSession, silence_id: str, *, lock: bool = False) -> Silence:
    row = await store.silence(session, silence_id, lock=lock)
    if row is None:
        raise NotFound(f"silence {silence_id} not found")
    return row
