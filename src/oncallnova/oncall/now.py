"""Who is on call now (or at another instant): per schedule, and per service (whom its
policy's first level pages).

Whatever the number of services, this reads the policies, the services, the first-level
schedules and the people once each, in one session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.oncall.policies import PolicyService
from oncallnova.oncall.policy_schemas import PolicyOut
from oncallnova.oncall.schedule_schemas import OnCallNow, ServiceOnCall
from oncallnova.oncall.schedules import ScheduleService
from oncallnova.users.api import UsersInTx


class CatalogEntry(Protocol):
    """What this needs of a service of the catalogue."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def team_id(self) -> str | None: ...
    @property
    def escalation_policy_id(self) -> str | None: ...


class Catalog(Protocol):
    async def list(self, actor: Principal) -> Sequence[CatalogEntry]: ...


class WhoIsOnCall:
    """Implements `oncall.api.OncallService`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        users: UsersInTx,
        schedules: ScheduleService,
        policies: PolicyService,
        catalog: Catalog,
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._schedules = schedules
        self._policies = policies
        self._catalog = catalog

    async def now(self, actor: Principal, at: datetime | None = None) -> OnCallNow:
        """Who is on call now (or at `at`), per schedule and per service."""
        require(actor, Role.viewer)
        at = at or self._clock.now()
        services = await self.services_on_call(actor, at)
        return OnCallNow(
            at=at,
            schedules=await self._schedules.now_per_schedule(actor, at),
            services=[s.entry() for s in services],
        )

    async def services_on_call(
        self, actor: Principal, at: datetime | None = None
    ) -> list[ServiceOnCall]:
        """Per service (in the catalogue's order), whom its policy's first level pages now
        (or at `at`)."""
        require(actor, Role.viewer)
        at = at or self._clock.now()
        policies = {p.id: p for p in await self._policies.list(actor)}
        services = await self._catalog.list(actor)
        first = {pid: _first_level(p) for pid, p in policies.items()}
        schedule_ids = sorted({s for _, ids in first.values() for s in ids})
        async with self._db.read() as session:
            on_call = await self._schedules.on_call(session, schedule_ids, at)
            paged = {pid: _paged(targets, on_call) for pid, (targets, _) in first.items()}
            everyone = sorted({u for ids in paged.values() for u in ids})
            people = await self._users.people(session, everyone)
        rows = []
        for service in services:
            policy = policies.get(service.escalation_policy_id or "")
            user_ids = paged[policy.id] if policy else ()
            rows.append(
                ServiceOnCall(
                    id=service.id,
                    name=service.name,
                    team_id=service.team_id,
                    policy_id=policy.id if policy else None,
                    policy_name=policy.name if policy else None,
                    schedule_ids=first[policy.id][1] if policy else (),
                    user_ids=user_ids,
                    user_names=tuple(people[u].name for u in user_ids if u in people),
                )
            )
        return rows


def _first_level(policy: PolicyOut) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    """The first level's targets in order, and the schedules among them."""
    if not policy.levels:
        return [], ()
    targets = [(t.type, t.id) for t in policy.levels[0].targets]
    return targets, tuple(i for kind, i in targets if kind == "schedule")


def _paged(targets: list[tuple[str, str]], on_call: dict[str, list[str]]) -> tuple[str, ...]:
    """Whom these targets page, each once, in the targets' order."""
    users: list[str] = []
    for kind, target in targets:
        users.extend([target] if kind == "user" else on_call.get(target, []))
    return tuple(dict.fromkeys(users))
