"""Escalation use cases: page the levels of an incident's policy, by time or by hand.

The engine calls `run_due`; each due incident is claimed, its next level is paged (outbox
rows) and its next escalation time stored, all in one transaction, so a crash never loses
or doubles a step.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, InvalidInput, NotFound
from oncallnova.core.retry import retry_conflicts
from oncallnova.incidents import escalation_logic as rules
from oncallnova.incidents import events, logic, store
from oncallnova.incidents.models import Incident
from oncallnova.notify.api import NotifyApi, Page
from oncallnova.oncall.api import PoliciesApi, SchedulesApi
from oncallnova.users.api import UsersApi

ENGINE = "escalation engine"


class Escalation:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        users: UsersApi,
        schedules: SchedulesApi,
        policies: PoliciesApi,
        notify: NotifyApi,
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._schedules = schedules
        self._policies = policies
        self._notify = notify

    async def has_due(self, now: datetime) -> bool:
        """Is any escalation step due at `now`? (A cheap read: the engine's idle poll.)"""
        async with self._db.read() as session:
            return await store.any_due(session, now)

    async def run_due(self, now: datetime, limit: int = 100) -> int:
        """Take every escalation step due at `now`; returns how many incidents moved."""
        if not await self.has_due(now):
            return 0  # the common case: no write transaction, no write lock taken
        total = 0
        while True:

            async def attempt() -> int:
                async with self._db.write() as session:
                    due = await store.claim_due(session, now, limit)
                    for incident in due:
                        await self._advance(session, incident, now, ENGINE, manual=False)
                return len(due)

            count = await retry_conflicts(attempt)
            total += count
            if count < limit:
                return total

    async def escalate(self, who: Principal, incident_id: str) -> Incident:
        """Page the next level now; an acknowledged incident becomes triggered again."""
        require(who, Role.responder)
        actor = who.label

        async def work(session: AsyncSession) -> Incident:
            note(session, who, "incident.escalate", "incident", incident_id)
            incident = await _open_incident(session, incident_id)
            snapshot = incident.escalation_snapshot
            if not snapshot:
                raise Conflict("the incident has no escalation policy; reassign it instead")
            if (
                rules.next_position(snapshot, incident.escalation_level, incident.escalation_round)
                is None
            ):
                raise Conflict("the escalation policy is exhausted: no level left to page")
            incident.status = logic.TRIGGERED
            await self._advance(session, incident, self._clock.now(), actor, manual=True)
            return incident

        return await self._transaction(work)

    async def reassign(
        self, who: Principal, incident_id: str, *, user_id: str | None, policy_id: str | None
    ) -> Incident:
        require(who, Role.responder)
        actor = who.label

        async def work(session: AsyncSession) -> Incident:
            note(
                session,
                who,
                "incident.reassign",
                "incident",
                incident_id,
                {"user_id": user_id, "escalation_policy_id": policy_id},
            )
            incident = await _open_incident(session, incident_id)
            now = self._clock.now()
            incident.status = logic.TRIGGERED
            if policy_id is not None:
                snapshot = (await self._policies.snapshots(session, [policy_id])).get(policy_id)
                if snapshot is None:
                    raise InvalidInput(
                        f"escalation policy {policy_id} not found", field="escalation_policy_id"
                    )
                incident.escalation_policy_id = policy_id
                incident.escalation_snapshot = snapshot
                incident.escalation_level, incident.escalation_round = -1, 0
                _note(
                    session,
                    incident,
                    now,
                    "reassigned",
                    actor,
                    f"Reassigned to escalation policy '{snapshot['name']}'",
                )
                await self._advance(session, incident, now, actor, manual=True, quiet=True)
            else:
                assert user_id is not None
                people = await self._users.people(session, [user_id])
                if user_id not in people:
                    raise InvalidInput(f"user {user_id} not found", field="user_id")
                incident.escalation_step += 1
                await self._notify.enqueue(
                    session,
                    [
                        Page(
                            incident.id,
                            user_id,
                            incident.escalation_step,
                            max(incident.escalation_level, 0),
                            incident.escalation_round,
                            f"reassigned by {actor}",
                            events.snapshot(incident, status=logic.TRIGGERED),
                        )
                    ],
                    now,
                )
                snapshot = incident.escalation_snapshot
                level = incident.escalation_level
                incident.next_escalation_at = (
                    now + timedelta(seconds=rules.delay_seconds(snapshot, level))
                    if snapshot and level >= 0
                    else None
                )
                _note(
                    session,
                    incident,
                    now,
                    "reassigned",
                    actor,
                    f"Reassigned to {people[user_id].name}",
                    {"user_ids": [user_id]},
                )
            events.emit(
                session,
                events.REASSIGNED,
                now,
                incident,
                actor,
                user_id=user_id,
                escalation_policy_id=policy_id,
            )
            return incident

        return await self._transaction(work)

    async def _advance(
        self,
        session: AsyncSession,
        incident: Incident,
        now: datetime,
        actor: str,
        *,
        manual: bool,
        quiet: bool = False,
    ) -> None:
        """Page the next level that has someone to page; stop when the policy is done."""
        snapshot = incident.escalation_snapshot or {}
        levels = len(snapshot.get("levels") or [])
        for _ in range(levels * (int(snapshot.get("repeat", 0)) + 1) + 1):
            position = rules.next_position(
                snapshot, incident.escalation_level, incident.escalation_round
            )
            if position is None:
                incident.next_escalation_at = None
                if incident.escalation_level >= 0:
                    _note(
                        session,
                        incident,
                        now,
                        "escalation_exhausted",
                        actor,
                        "Escalation policy exhausted: every level and repeat was paged",
                    )
                return
            first = incident.escalation_level < 0 and incident.escalation_round == 0
            paged = await self._page(session, incident, position, now, actor)
            if not first and not quiet:
                events.emit(
                    session,
                    events.ESCALATED,
                    now,
                    incident,
                    actor,
                    level=position.level + 1,
                    round=position.round,
                )
            if paged:
                return
            # Nobody at this level: it is on the timeline; go straight to the next one.
        incident.next_escalation_at = None

    async def _page(
        self,
        session: AsyncSession,
        incident: Incident,
        position: rules.Position,
        now: datetime,
        actor: str,
    ) -> bool:
        snapshot = incident.escalation_snapshot or {}
        user_ids, gaps = await self._resolve(session, rules.targets(snapshot, position.level), now)
        incident.escalation_step += 1
        incident.escalation_level = position.level
        incident.escalation_round = position.round
        incident.next_escalation_at = now + timedelta(
            seconds=rules.delay_seconds(snapshot, position.level)
        )
        label = f"level {position.level + 1}" + (
            f" (repeat {position.round})" if position.round else ""
        )
        reason = f"{label} of '{snapshot.get('name', 'policy')}'"
        await self._notify.enqueue(
            session,
            [
                Page(
                    incident.id,
                    u,
                    incident.escalation_step,
                    position.level,
                    position.round,
                    reason,
                    events.snapshot(incident),
                )
                for u in user_ids
            ],
            now,
        )
        for gap in gaps:
            _note(session, incident, now, "no_one_on_call", actor, f"{label}: {gap}")
        if user_ids:
            people = await self._users.people(session, user_ids)
            names = ", ".join(people[u].name for u in user_ids if u in people)
            kind = "paged" if position.level == 0 and position.round == 0 else "escalated"
            _note(
                session,
                incident,
                now,
                kind,
                actor,
                f"Paged {label}: {names}",
                {"user_ids": user_ids, "level": position.level + 1, "round": position.round},
            )
        return bool(user_ids)

    async def _resolve(
        self, session: AsyncSession, targets: list[dict[str, str]], now: datetime
    ) -> tuple[list[str], list[str]]:
        """The users a level's targets name now, and a sentence for each empty target."""
        schedule_ids = [t["id"] for t in targets if t["type"] == "schedule"]
        on_call = await self._schedules.on_call(session, schedule_ids, now)
        direct = [t["id"] for t in targets if t["type"] == "user"]
        people = await self._users.people(session, direct)
        users: list[str] = []
        gaps: list[str] = []
        for target in targets:
            if target["type"] == "user":
                if target["id"] in people:
                    users.append(target["id"])
                else:
                    gaps.append(f"user {target['id']} no longer exists")
            elif target["id"] not in on_call:
                gaps.append(f"schedule {target['id']} no longer exists")
            elif not on_call[target["id"]]:
                gaps.append(f"nobody is on call in schedule {target['id']}")
            else:
                users.extend(on_call[target["id"]])
        return list(dict.fromkeys(users)), gaps

    async def _transaction(self, work: Any) -> Incident:
        async def attempt() -> Incident:
            async with self._db.write() as session:
                return await work(session)

        return await retry_conflicts(attempt)


async def _open_incident(session: AsyncSession, incident_id: str) -> Incident:
    incident = await store.get(session, incident_id, lock=True)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    if incident.status == logic.RESOLVED:
        raise Conflict("the incident is resolved")
    return incident


def _note(
    session: AsyncSession,
    incident: Incident,
    now: datetime,
    kind: str,
    actor: str,
    message: str,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(store.timeline_entry(incident.id, now, kind, actor, message, data))
