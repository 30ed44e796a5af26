"""Notification rules: a page walks through the paged person's contact methods in time.

Paging a user writes a page row (in the escalation's transaction) holding a copy of
their rules, fires the rules due at once into the outbox, and leaves `next_at` on the
row for the next one. The engine claims due rows (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite has one writer), fires what is due and moves `next_at` on, in one
transaction: so with any number of engines each rule fires once, and a restart finds
the rows where they were. An acknowledgement (or resolution) clears `next_at` on every
page of the incident in its own transaction, which stops everyone's rules.

A user with no rule gets every contact method at once. A rule whose contact method
was deleted since the page is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.db import Database
from oncallnova.core.ids import new_id
from oncallnova.core.retry import retry_conflicts
from oncallnova.core.upsert import insert_ignoring_duplicates
from oncallnova.notify import contacts, store
from oncallnova.notify.models import PageRow
from oncallnova.users.api import Person, UsersInTx


def rules_of(person: Person) -> list[dict[str, Any]]:
    """The person's rules by delay; without any, every contact method at once."""
    if person.rules:
        rules = [
            {"contact_method_id": r.contact_method_id, "delay_minutes": r.delay_minutes}
            for r in person.rules
        ]
        return sorted(rules, key=lambda r: r["delay_minutes"])
    return [{"contact_method_id": c.id, "delay_minutes": 0} for c in person.contacts]


def due_at(page: PageRow, index: int) -> datetime | None:
    if index >= len(page.rules):
        return None
    return page.created_at + timedelta(minutes=int(page.rules[index]["delay_minutes"]))


class Paging:
    def __init__(self, db: Database, users: UsersInTx) -> None:
        self._db = db
        self._users = users

    async def start(
        self,
        session: AsyncSession,
        person: Person | None,
        page: dict[str, Any],
        now: datetime,
    ) -> int:
        """Write the page row for `page` (fields of PageRow) and fire the rules due
        now; returns the outbox rows written. A page already written is left alone."""
        rules = rules_of(person) if person else []
        values = {
            "id": new_id(),
            **page,
            "rules": rules,
            "next_rule": 0,
            "next_at": now,
            "stopped_at": None,
            "created_at": now,
        }
        added = await insert_ignoring_duplicates(
            session, PageRow.__table__, [values], ["incident_id", "step", "user_id"]
        )
        if not added:
            return 0
        row = await session.get(PageRow, values["id"])
        assert row is not None
        return await self._fire(session, row, person, now)

    async def has_due(self, now: datetime) -> bool:
        async with self._db.read() as session:
            found = await session.execute(select(PageRow.id).where(PageRow.next_at <= now).limit(1))
            return found.first() is not None

    async def run_due(self, now: datetime, limit: int = 100) -> int:
        """Fire every rule due at `now`; returns the outbox rows written."""
        if not await self.has_due(now):
            return 0
        total = 0
        while True:

            async def attempt() -> tuple[int, int]:
                async with self._db.write() as session:
                    query = (
                        select(PageRow)
                        .where(PageRow.next_at <= now)
                        .order_by(PageRow.next_at)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                    rows = list((await session.execute(query)).scalars())
                    people = await self._users.people(session, [r.user_id for r in rows])
                    written = 0
                    for page in rows:
                        written += await self._fire(session, page, people.get(page.user_id), now)
                return len(rows), written

            claimed, written = await retry_conflicts(attempt)
            total += written
            if claimed < limit:
                return total

    async def stop(self, session: AsyncSession, incident_id: str, now: datetime) -> None:
        """No rule of any page of the incident fires any more.

        Runs in the acknowledging transaction, which holds the incident's row. On
        PostgreSQL an engine firing a rule of the same page at that instant holds the
        page's row and waits for the incident's (its outbox insert checks the foreign
        key): PostgreSQL ends that deadlock by failing one of the two, and both retry
        (`retry_conflicts`), so the rule either fired before the acknowledgement or not
        at all."""
        await session.execute(
            update(PageRow)
            .where(PageRow.incident_id == incident_id, PageRow.next_at.is_not(None))
            .values(next_at=None, stopped_at=now)
            .execution_options(synchronize_session=False)
        )

    async def _fire(
        self, session: AsyncSession, page: PageRow, person: Person | None, now: datetime
    ) -> int:
        rows: list[dict[str, Any]] = []
        index = page.next_rule
        while (when := due_at(page, index)) is not None and when <= now:
            rule = page.rules[index]
            contact = person.contact(rule["contact_method_id"]) if person else None
            if person is not None and contact is not None:
                rows.append(
                    contacts.to_contact(
                        now,
                        person,
                        contact,
                        "page",
                        dict(page.payload),
                        incident_id=page.incident_id,
                        step=page.step,
                        level=page.level,
                        round=page.round,
                        reason=page.reason,
                        # Belt and braces: a rule fires once even if a page were claimed twice.
                        dedup_key=f"rule:{page.id}:{index}",
                    )
                )
            index += 1
        page.next_rule = index
        page.next_at = due_at(page, index)
        if rows:
            await store.add(session, rows)
            session.info["outbox"] = True
        return len(rows)


async def pages(session: AsyncSession, incident_id: str) -> list[PageRow]:
    query = (
        select(PageRow)
        .where(PageRow.incident_id == incident_id)
        .order_by(PageRow.created_at, PageRow.step, PageRow.user_id)
    )
    return list((await session.execute(query)).scalars())
