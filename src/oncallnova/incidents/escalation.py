"""Escalation use cases: page the levels of an incident's policy, by time or by hand.

The engine calls `run_due`; each due incident is claimed, its next level is paged (outbox
rows) and its next escalation time stored, all in one transaction, so a crash never loses
or doubles a step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, InvalidInput, NotFound
from oncallnova.core.metrics import Metrics
from oncallnova.core.retry import retry_conflicts
from oncallnova.incidents import escalation_logic as rules
from oncallnova.incidents import events, logic, reach, store
from oncallnova.incidents.api import QuietSource
from oncallnova.incidents.holds import Holds
from oncallnova.incidents.models import Incident
from oncallnova.incidents.schemas import IncidentOut
from oncallnova.notify.api import NotifyInTx, Page
from oncallnova.oncall.api import PoliciesInTx, SchedulesInTx
from oncallnova.users.api import UsersInTx

ENGINE = "escalation engine"
# Turns stored incidents into what callers get back (service names filled in).
Present = Callable[[list[Incident]], Awaitable[list[IncidentOut]]]
# The timeline kind of "this incident paged nobody", which the incident page shows.
UNPAGED = "unpaged"


class Escalation:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        users: UsersInTx,
        schedules: SchedulesInTx,
        policies: PoliciesInTx,
        notify: NotifyInTx,
        present: Present,
        metrics: Metrics | None = None,
        holds: Holds | None = None,
        quiet: QuietSource | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._schedules = schedules
        self._policies = policies
        self._notify = notify
        self._present = present
        self.metrics = metrics  # the Runtime's, to count unpaged incidents
        # Silences and maintenance windows, read fresh before each step is taken, so that
        # one created or started since the incidents were last looked at holds them now.
        self.holds = holds
        self.quiet = quiet

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

            async def attempt() -> tuple[int, int]:
                async with self._db.write() as session:
                    due = await store.claim_due(session, now, limit)
                    held = await self._held(session, due, now)
                    for incident in due:
                        if incident.id not in held:
                            await self._advance(session, incident, now, ENGINE, manual=False)
                self._count_unpaged(session)
                # An incident without a policy is claimed once, to say it paged nobody;
                # that is not an escalation step.
                return len(due), sum(1 for i in due if i.escalation_snapshot and i.id not in held)

            claimed, stepped = await retry_conflicts(attempt)
            total += stepped
            if claimed < limit:
                return total

    async def _held(self, session: AsyncSession, due: list[Incident], now: datetime) -> set[str]:
        """The claimed incidents a silence or a maintenance window holds now (marked so)."""
        if not due or self.holds is None or self.quiet is None:
            return set()
        view = await self.quiet.view(session, now, fresh=True)
        return await self.holds.apply(session, due, view, now, ENGINE)

    async def escalate(self, who: Principal, incident_id: str) -> IncidentOut:
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
    ) -> IncidentOut:
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
                if not people[user_id].page_address:
                    raise InvalidInput(
                        f"{people[user_id].name} has no contact method, so cannot be paged",
                        field="user_id",
                    )
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
        """Page the next level that reaches someone; stop when the policy is done.

        A level that reaches nobody is on the timeline and the next one is paged at once,
        not after its delay. A whole pass of levels reaching nobody stops there (another
        pass at the same instant would find the same nobody), and an incident that ends
        with nobody ever paged says so.
        """
        snapshot = incident.escalation_snapshot or {}
        levels = len(snapshot.get("levels") or [])
        missed = 0
        while True:
            position = rules.next_position(
                snapshot, incident.escalation_level, incident.escalation_round
            )
            if position is None or (levels and missed >= levels):
                incident.next_escalation_at = None
                await self._stopped(session, incident, now, actor, exhausted=position is None)
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
            missed += 1
            if missed < levels and rules.next_position(snapshot, position.level, position.round):
                _note(
                    session,
                    incident,
                    now,
                    reach.UNREACHABLE,
                    actor,
                    f"{_label(position)} reached nobody: paging the next level now",
                    {"level": position.level + 1, "round": position.round},
                )

    async def _stopped(
        self,
        session: AsyncSession,
        incident: Incident,
        now: datetime,
        actor: str,
        *,
        exhausted: bool,
    ) -> None:
        """Escalation ends: say why, and whether anybody was ever paged."""
        snapshot = incident.escalation_snapshot
        if not snapshot:
            reason = rules.NO_POLICY
            message = "Paged nobody: the service has no escalation policy"
        elif await self._notify.pages_of(session, incident.id):
            if incident.escalation_level >= 0:
                message = (
                    "Escalation policy exhausted: every level and repeat was paged"
                    if exhausted
                    else "Escalation stopped: no level of the policy reaches anyone now"
                )
                _note(session, incident, now, "escalation_exhausted", actor, message)
            return
        else:
            reason = rules.NOBODY_REACHABLE
            message = f"Paged nobody: no level of '{snapshot.get('name', 'policy')}' reached anyone"
        _note(session, incident, now, UNPAGED, actor, message, {"reason": reason})
        session.info.setdefault("unpaged", []).append(reason)

    async def _page(
        self,
        session: AsyncSession,
        incident: Incident,
        position: rules.Position,
        now: datetime,
        actor: str,
    ) -> bool:
        snapshot = incident.escalation_snapshot or {}
        targets = rules.targets(snapshot, position.level)
        found = await reach.resolve(session, self._users, self._schedules, targets, now)
        user_ids = found.user_ids
        incident.escalation_step += 1
        incident.escalation_level = position.level
        incident.escalation_round = position.round
        incident.next_escalation_at = now + timedelta(
            seconds=rules.delay_seconds(snapshot, position.level)
        )
        label = _label(position)
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
        for kind, gap in found.gaps:
            _note(session, incident, now, kind, actor, f"{label}: {gap}")
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

    async def _transaction(self, work: Any) -> IncidentOut:
        async def attempt() -> Incident:
            async with self._db.write() as session:
                incident: Incident = await work(session)
            self._count_unpaged(session)
            return incident

        return (await self._present([await retry_conflicts(attempt)]))[0]

    def _count_unpaged(self, session: AsyncSession) -> None:
        """Count the incidents that paged nobody, once their transaction is committed."""
        reasons = session.info.pop("unpaged", [])
        if self.metrics is not None:
            for reason in reasons:
                self.metrics.incidents_unpaged.labels(reason).inc()


async def _open_incident(session: AsyncSession, incident_id: str) -> Incident:
    incident = await store.get(session, incident_id, lock=True)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    if incident.status == logic.RESOLVED:
        raise Conflict("the incident is resolved")
    return incident


def _label(position: rules.Position) -> str:
    """A level as people count it, from 1."""
    return f"level {position.level + 1}" + (f" (repeat {position.round})" if position.round else "")


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
