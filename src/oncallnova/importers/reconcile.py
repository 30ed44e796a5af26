"""Makes what a `Bundle` wants exist, through the same use cases the API calls, or only
says what it would create (the dry run reads and writes nothing).

Objects are found by their natural key (a user by email, anything else by name); what
exists is left as it is, so a second run creates nothing. A schedule that exists still
gets the overrides it lacks (an override is found by user, start and end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from oncallnova.core.authz import SYSTEM
from oncallnova.importers.model import Bundle, LayerSpec, PolicySpec, Remark, ScheduleSpec
from oncallnova.oncall.policy_schemas import LevelIn, PolicyIn, TargetIn
from oncallnova.oncall.schedule_schemas import LayerIn, OverrideIn, RestrictionIn, ScheduleIn
from oncallnova.runtime.services import Services
from oncallnova.services.schemas import ServiceIn, ServicePatch
from oncallnova.users.schemas import TeamIn, UserIn

# The id of what a dry run would create.
PLANNED = "(planned)"


@dataclass
class Step:
    action: str  # "create" (or "would create"), "exists", "add"
    kind: str
    name: str


@dataclass
class Report:
    applied: bool
    steps: list[Step] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)
    urls: list[tuple[str, str]] = field(default_factory=list)  # old URL -> new URL

    @property
    def created(self) -> int:
        """What was created (or, in a dry run, would be)."""
        return sum(1 for s in self.steps if s.action != "exists")


class Reconciler:
    def __init__(self, svc: Services, base_url: str, apply: bool) -> None:
        self.svc = svc
        self.base_url = base_url.rstrip("/")
        self.apply = apply
        self.report = Report(applied=apply)
        self.user_ids: dict[str, str] = {}
        self.schedule_ids: dict[str, str] = {}
        self.policy_ids: dict[str, str] = {}
        self.team_ids: dict[str, str] = {}

    def _step(self, created: bool, kind: str, name: str, verb: str = "create") -> None:
        action = "exists" if not created else (verb if self.apply else f"would {verb}")
        self.report.steps.append(Step(action, kind, name))

    async def run(self, bundle: Bundle) -> Report:
        self.report.remarks = list(bundle.remarks)
        await self._users(bundle)
        await self._teams(bundle)
        for schedule in bundle.schedules:
            await self._schedule(schedule)
        for policy in bundle.policies:
            await self._policy(policy)
        await self._services(bundle)
        return self.report

    async def _users(self, bundle: Bundle) -> None:
        existing = {u.email.lower(): u.id for u in await self.svc.users.list_users(SYSTEM)}
        for spec in bundle.users:
            email = spec.email.lower()
            if email in existing:
                self.user_ids[email] = existing[email]
                self._step(False, "user", email)
                continue
            self._step(True, "user", email)
            self.user_ids[email] = PLANNED
            if self.apply:
                data = UserIn(name=spec.name, email=spec.email, time_zone=spec.time_zone)
                existing[email] = self.user_ids[email] = (
                    await self.svc.users.create_user(SYSTEM, data)
                ).id
        self.user_ids.update(existing)

    async def _teams(self, bundle: Bundle) -> None:
        existing = {t.name: t.id for t in await self.svc.users.list_teams(SYSTEM)}
        for spec in bundle.teams:
            if spec.name in existing:
                self.team_ids[spec.name] = existing[spec.name]
                self._step(False, "team", spec.name)
                continue
            self._step(True, "team", spec.name)
            if self.apply:
                members = [
                    self.user_ids[e.lower()]
                    for e in spec.member_emails
                    if e.lower() in self.user_ids
                ]
                team = await self.svc.users.create_team(
                    SYSTEM, TeamIn(name=spec.name, member_ids=members)
                )
                self.team_ids[spec.name] = team.id

    def _ids(self, kind: str, name: str, emails: list[str]) -> list[str]:
        found = []
        for email in emails:
            user_id = self.user_ids.get(email.lower())
            if user_id is None:
                self.report.remarks.append(Remark(kind, name, f"unknown user {email}: left out"))
            else:
                found.append(user_id)
        return found

    def _layer(self, schedule: str, spec: LayerSpec) -> LayerIn | None:
        users = self._ids("schedule", f"{schedule} / {spec.name}", spec.emails)
        if not users:
            text = f"layer {spec.name} has no known user: not imported"
            self.report.remarks.append(Remark("schedule", schedule, text))
            return None
        restrictions = [RestrictionIn(**r) for r in spec.restrictions]  # type: ignore[arg-type]
        return LayerIn(
            name=spec.name[:100],
            users=users,
            turn=spec.turn,
            handoff=spec.handoff,
            restrictions=restrictions,
            end=spec.end,
        )

    async def _schedule(self, spec: ScheduleSpec) -> None:
        existing = {s.name: s for s in await self.svc.schedules.list(SYSTEM)}
        found = existing.get(spec.name)
        have: set[tuple[str, str, str]] = set()
        if found is not None:
            self._step(False, "schedule", spec.name)
            schedule_id: str | None = found.id
            have = {(o.user_id, _utc(o.start), _utc(o.end)) for o in found.overrides}
        else:
            self._step(True, "schedule", spec.name)
            layers = [layer for s in spec.layers if (layer := self._layer(spec.name, s))]
            schedule_id = None
            if self.apply:
                data = ScheduleIn(name=spec.name, time_zone=spec.time_zone, layers=layers)
                schedule_id = (await self.svc.schedules.create(SYSTEM, data)).id
        if schedule_id is not None:
            self.schedule_ids[spec.name] = schedule_id
        for override in spec.overrides:
            [user_id] = self._ids("schedule", spec.name, [override.email]) or [None]
            if user_id is None:
                continue
            start, end = override.start, override.end
            if (user_id, _utc(start), _utc(end)) in have:
                continue
            self._step(True, "override", f"{spec.name}: {override.email} {start} - {end}", "add")
            have.add((user_id, _utc(start), _utc(end)))
            if self.apply and schedule_id is not None:
                data = OverrideIn(user_id=user_id, start=start, end=end)
                await self.svc.schedules.add_override(SYSTEM, schedule_id, data)

    async def _policy(self, spec: PolicySpec) -> None:
        existing = {p.name: p.id for p in await self.svc.policies.list(SYSTEM)}
        if spec.name in existing:
            self.policy_ids[spec.name] = existing[spec.name]
            self._step(False, "escalation policy", spec.name)
            return
        levels = []
        for number, level in enumerate(spec.levels, 1):
            targets = []
            for target in level.targets:
                if target.type == "user":
                    targets += [
                        TargetIn(type="user", id=i)
                        for i in self._ids("escalation policy", spec.name, [target.ref])
                    ]
                elif target.ref in self.schedule_ids:
                    targets.append(TargetIn(type="schedule", id=self.schedule_ids[target.ref]))
                elif self.apply:
                    text = f"level {number}: unknown schedule {target.ref}: left out"
                    self.report.remarks.append(Remark("escalation policy", spec.name, text))
                else:
                    targets.append(TargetIn(type="schedule", id=PLANNED))
            if targets:
                levels.append(LevelIn(targets=targets, delay_seconds=level.delay_seconds))
        if not levels:
            text = "no level has a target here: not imported"
            self.report.remarks.append(Remark("escalation policy", spec.name, text))
            return
        self._step(True, "escalation policy", spec.name)
        if self.apply:
            data = PolicyIn(name=spec.name, repeat=min(spec.repeat, 5), levels=levels)
            self.policy_ids[spec.name] = (await self.svc.policies.create(SYSTEM, data)).id

    async def _services(self, bundle: Bundle) -> None:
        existing = {s.name: s for s in await self.svc.catalog.list(SYSTEM)}
        for spec in bundle.services:
            found = existing.get(spec.name)
            key = None
            if found is not None:
                self._step(False, "service", spec.name)
                key = next((k.key for k in found.integration_keys if not k.revoked_at), None)
            else:
                self._step(True, "service", spec.name)
                if self.apply:
                    service, created = await self.svc.catalog.create(
                        SYSTEM, ServiceIn(name=spec.name)
                    )
                    key = created.key
                    patch = ServicePatch(
                        escalation_policy_id=self.policy_ids.get(spec.policy or ""),
                        team_id=self.team_ids.get(spec.team or ""),
                    )
                    if patch.escalation_policy_id or patch.team_id:
                        await self.svc.catalog.update(SYSTEM, service.id, patch)
            for old in spec.old_urls:
                self.report.urls.append((old, self._new_url(spec.sender, key or "<new key>", old)))

    def _new_url(self, sender: str, key: str, old: str) -> str:
        if sender == "opsgenie":
            return f"{self.base_url}/v2/alerts  (Authorization: GenieKey {key})"
        suffix = "heartbeat/" if old.rstrip("/").endswith("heartbeat") else ""
        return f"{self.base_url}/integrations/v1/{sender}/{key}/{suffix}"


def _utc(value: datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()
