"""The audit log: who changed what, when, from which address."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.auth.models import AuditEntry
from oncallnova.auth.schemas import AuditOut
from oncallnova.core.audit import AuditNote
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database


class AuditLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def write_notes(self, session: AsyncSession) -> None:
        """Before-commit hook: the notes of this transaction become audit rows."""
        notes: list[AuditNote] = session.info.pop("audit", [])
        if not notes:
            return
        now = self._clock.now()
        await session.execute(
            insert(AuditEntry),
            [
                {
                    "at": now,
                    "actor_id": n.actor.user_id,
                    "actor": n.actor.email or n.actor.name,
                    "ip": n.actor.ip,
                    "action": n.action,
                    "target_type": n.target_type,
                    "target_id": n.target_id,
                    "details": n.details,
                    "message": "",
                }
                for n in notes
            ],
        )

    async def list(
        self, actor: Principal, limit: int = 100, before_id: int | None = None
    ) -> list[AuditOut]:
        require(actor, Role.admin)
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        async with self._db.read() as session:
            return [AuditOut.model_validate(e) for e in (await session.execute(query)).scalars()]
