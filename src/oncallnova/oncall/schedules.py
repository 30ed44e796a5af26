"""Use cases of schedules: storage, who is on call, shifts, overrides, iCal feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, InvalidInput, NotFound
from oncallnova.core.ids import new_id, new_secret
from oncallnova.core.usage import refuse_if_used
from oncallnova.oncall import ical, logic
from oncallnova.oncall.api import OnCallShift
from oncallnova.oncall.models import Schedule, ScheduleOverride
from oncallnova.oncall.schedule_rows import (
    layer_json,
    layer_logic,
    overrides_of,
    require_schedule,
    to_logic,
)
from oncallnova.oncall.schedule_schemas import (
    LayerIn,
    OnCallAt,
    OnCallEntry,
    OverrideIn,
    OverrideOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    ShiftList,
    ShiftOut,
)
from oncallnova.oncall.usage import schedule_uses
from oncallnova.users.api import UsersInTx

MAX_RANGE = timedelta(days=366)
SHIFT_END_LOOKAHEAD = timedelta(days=1)
FEED_PAST, FEED_AHEAD = timedelta(days=7), timedelta(days=60)


class ScheduleService:
    """Schedules; implements `SchedulesInTx` for escalation."""

    def __init__(self, db: Database, clock: Clock, users: UsersInTx, *, base_url: str) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._base_url = base_url.rstrip("/")

    # --- SchedulesInTx ---

    async def on_call(
        self, session: AsyncSession, schedule_ids: list[str], at: datetime
    ) -> dict[str, list[str]]:
        if not schedule_ids:
            return {}
        rows = await session.execute(select(Schedule).where(Schedule.id.in_(set(schedule_ids))))
        schedules = list(rows.scalars())
        overrides = await overrides_of(session, [s.id for s in schedules])
        return {s.id: logic.oncall_at(to_logic(s, overrides.get(s.id, [])), at) for s in schedules}

    async def missing(self, session: AsyncSession, schedule_ids: list[str]) -> list[str]:
        if not schedule_ids:
            return []
        rows = await session.execute(select(Schedule.id).where(Schedule.id.in_(schedule_ids)))
        found = set(rows.scalars())
        return [s for s in schedule_ids if s not in found]

    async def shifts_of(
        self, session: AsyncSession, user_ids: list[str], start: datetime, end: datetime
    ) -> list[OnCallShift]:
        wanted = set(user_ids)
        if not wanted:
            return []
        schedules = list((await session.execute(select(Schedule))).scalars())
        overrides = await overrides_of(session, [s.id for s in schedules])
        found = []
        for schedule in schedules:
            model = to_logic(schedule, overrides.get(schedule.id, []))
            # Look a day past the range so a shift running over its end keeps its own end.
            for shift in logic.shifts_overlapping(model, start, end + SHIFT_END_LOOKAHEAD):
                if shift.user_id in wanted and shift.start < end:
                    found.append(
                        OnCallShift(
                            schedule.id, schedule.name, shift.user_id, shift.start, shift.end
                        )
                    )
        return sorted(found, key=lambda s: (s.start, s.schedule_id, s.user_id))

    # --- CRUD ---

    async def create(self, actor: Principal, data: ScheduleIn) -> ScheduleOut:
        require(actor, Role.admin)
        now = self._clock.now()
        layers = _in_zone(data.layers, data.time_zone)
        schedule = Schedule(
            id=new_id(),
            name=data.name,
            description=data.description,
            time_zone=data.time_zone,
            layers=[layer_json(layer) for layer in layers],
            ical_token=new_secret(),
            created_at=now,
            updated_at=now,
        )
        async with self._db.write() as session:
            await self._check(session, layers, data.time_zone)
            await self._unique_name(session, data.name, None)
            session.add(schedule)
            note(session, actor, "schedule.create", "schedule", schedule.id)
        return self._out(schedule, [])

    async def list(self, actor: Principal) -> list[ScheduleOut]:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            schedules = list(
                (await session.execute(select(Schedule).order_by(Schedule.name))).scalars()
            )
            overrides = await overrides_of(session, [s.id for s in schedules])
        feed = _sees_feeds(actor)
        return [self._out(s, overrides.get(s.id, []), feed) for s in schedules]

    async def get(self, actor: Principal, schedule_id: str) -> ScheduleOut:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            schedule = await require_schedule(session, schedule_id)
            overrides = await overrides_of(session, [schedule_id])
        return self._out(schedule, overrides.get(schedule_id, []), _sees_feeds(actor))

    async def update(self, actor: Principal, schedule_id: str, data: SchedulePatch) -> ScheduleOut:
        require(actor, Role.admin)
        changes = data.model_dump(exclude_unset=True)
        async with self._db.write() as session:
            schedule = await require_schedule(session, schedule_id)
            if changes.get("name"):
                await self._unique_name(session, changes["name"], schedule_id)
                schedule.name = changes["name"]
            if "description" in changes:
                schedule.description = changes["description"]
            zone = data.time_zone or schedule.time_zone
            # Times without an offset are read in the zone the schedule will have; the
            # stored layers already carry theirs, so changing only the zone moves nothing.
            layers = (
                _in_zone(data.layers, zone)
                if data.layers is not None
                else [LayerIn.model_validate(layer) for layer in schedule.layers]
            )
            await self._check(session, layers, zone)
            schedule.time_zone = zone
            schedule.layers = [layer_json(layer) for layer in layers]
            schedule.updated_at = self._clock.now()
            overrides = await overrides_of(session, [schedule_id])
            note(session, actor, "schedule.update", "schedule", schedule_id)
        return self._out(schedule, overrides.get(schedule_id, []))

    async def delete(self, actor: Principal, schedule_id: str) -> None:
        require(actor, Role.admin)
        async with self._db.write() as session:
            schedule = await require_schedule(session, schedule_id)
            await refuse_if_used(
                session, [schedule_uses], schedule_id, f"schedule '{schedule.name}'"
            )
            await session.delete(schedule)
            note(session, actor, "schedule.delete", "schedule", schedule_id)

    async def add_override(
        self, actor: Principal, schedule_id: str, data: OverrideIn
    ) -> OverrideOut:
        require(actor, Role.responder)
        async with self._db.write() as session:
            schedule = await require_schedule(session, schedule_id)
            data = data.in_zone(logic.validate_time_zone(schedule.time_zone))
            if data.end <= data.start:
                raise InvalidInput("end must be after start", field="end")
            override = ScheduleOverride(
                id=new_id(),
                schedule_id=schedule_id,
                user_id=data.user_id,
                start=data.start.astimezone(UTC),
                end=data.end.astimezone(UTC),
                created_at=self._clock.now(),
            )
            if await self._users.missing(session, [data.user_id]):
                raise InvalidInput(f"user {data.user_id} not found", field="user_id")
            session.add(override)
            note(
                session,
                actor,
                "schedule.override.create",
                "schedule",
                schedule_id,
                {"override_id": override.id, "user_id": data.user_id},
            )
        return OverrideOut.model_validate(override)

    async def delete_override(self, actor: Principal, schedule_id: str, override_id: str) -> None:
        require(actor, Role.responder)
        async with self._db.write() as session:
            override = await session.get(ScheduleOverride, override_id)
            if override is None or override.schedule_id != schedule_id:
                raise NotFound(f"override {override_id} not found on this schedule")
            await session.delete(override)
            note(
                session,
                actor,
                "schedule.override.delete",
                "schedule",
                schedule_id,
                {"override_id": override_id},
            )

    # --- who and when ---

    async def oncall_at(self, actor: Principal, schedule_id: str, at: datetime) -> OnCallAt:
        require(actor, Role.viewer)
        """Who is on call at `at`, each with the shift that covers it (clipped to ±31 days)."""
        schedule, model = await self._model(schedule_id)
        around = timedelta(days=31)
        covering = [
            s for s in logic.final_shifts(model, at - around, at + around) if s.start <= at < s.end
        ]
        return OnCallAt(schedule_id=schedule.id, at=at, users=await self._named(covering))

    async def shifts(
        self, actor: Principal, schedule_id: str, start: datetime, end: datetime
    ) -> ShiftList:
        require(actor, Role.viewer)
        _check_range(start, end)
        schedule, model = await self._model(schedule_id)
        shifts = logic.final_shifts(model, start, end)
        return ShiftList(
            schedule_id=schedule.id, start=start, end=end, shifts=await self._named(shifts)
        )

    async def now_per_schedule(
        self, actor: Principal, at: datetime | None = None
    ) -> list[OnCallEntry]:
        require(actor, Role.viewer)
        now = at or self._clock.now()
        async with self._db.read() as session:
            schedules = list(
                (await session.execute(select(Schedule).order_by(Schedule.name))).scalars()
            )
            who = await self.on_call(session, [s.id for s in schedules], now)
            people = await self._users.people(session, [u for ids in who.values() for u in ids])
        return [
            OnCallEntry(
                id=s.id,
                name=s.name,
                user_ids=who.get(s.id, []),
                user_names=[people[u].name for u in who.get(s.id, []) if u in people],
            )
            for s in schedules
        ]

    async def names(self, user_ids: list[str]) -> dict[str, str]:
        async with self._db.read() as session:
            return {k: v.name for k, v in (await self._users.people(session, user_ids)).items()}

    # --- iCalendar ---

    async def rotate_ical_token(self, actor: Principal, schedule_id: str) -> ScheduleOut:
        require(actor, Role.admin)
        async with self._db.write() as session:
            schedule = await require_schedule(session, schedule_id)
            schedule.ical_token = new_secret()
            note(session, actor, "schedule.ical_token.rotate", "schedule", schedule_id)
        return await self.get(actor, schedule_id)

    async def schedule_feed(self, token: str) -> bytes | None:
        async with self._db.read() as session:
            found = await session.execute(select(Schedule).where(Schedule.ical_token == token))
            schedule = found.scalar_one_or_none()
            if schedule is None:
                return None
            overrides = (await overrides_of(session, [schedule.id])).get(schedule.id, [])
        now = self._clock.now()
        shifts = logic.shifts_overlapping(
            to_logic(schedule, overrides), now - FEED_PAST, now + FEED_AHEAD
        )
        return await self._ical(schedule.name, shifts, f"schedule-{schedule.id}")

    async def user_feed(self, user_id: str, user_name: str) -> bytes:
        now = self._clock.now()
        async with self._db.read() as session:
            schedules = list((await session.execute(select(Schedule))).scalars())
            overrides = await overrides_of(session, [s.id for s in schedules])
        # Each shift with its schedule: two schedules may have same-named layers.
        scoped = [
            (s.id, shift)
            for s in schedules
            for shift in logic.shifts_overlapping(
                to_logic(s, overrides.get(s.id, [])), now - FEED_PAST, now + FEED_AHEAD
            )
            if shift.user_id == user_id
        ]
        scoped.sort(key=lambda item: item[1].start)
        return await self._ical(
            f"On call: {user_name}",
            [shift for _, shift in scoped],
            f"user-{user_id}",
            scopes=[schedule_id for schedule_id, _ in scoped],
        )

    async def _ical(
        self,
        name: str,
        shifts: list[logic.Shift],
        prefix: str,
        *,
        scopes: list[str] | None = None,
    ) -> bytes:
        names = await self.names(sorted({s.user_id for s in shifts}))
        host = self._base_url.split("://", 1)[-1].split("/", 1)[0] or "oncallnova"
        return ical.shifts_to_ical(
            name,
            shifts,
            prodid="-//OnCallNova//Schedules//EN",
            uid_prefix=f"{prefix}@{host}",
            dtstamp=self._clock.now(),
            display_names=names,
            uid_scopes=scopes,
        )

    # --- helpers ---

    async def _model(self, schedule_id: str) -> tuple[Schedule, logic.Schedule]:
        async with self._db.read() as session:
            schedule = await require_schedule(session, schedule_id)
            overrides = (await overrides_of(session, [schedule_id])).get(schedule_id, [])
        return schedule, to_logic(schedule, overrides)

    async def _named(self, shifts: list[logic.Shift]) -> list[ShiftOut]:
        names = await self.names(sorted({s.user_id for s in shifts}))
        return [
            ShiftOut(
                user_id=s.user_id,
                user_name=names.get(s.user_id),
                start=s.start,
                end=s.end,
                source=s.source,
            )
            for s in shifts
        ]

    async def _check(self, session: AsyncSession, layers: list[LayerIn], zone: str) -> None:
        try:
            logic.Schedule(zone, [layer_logic(layer_json(layer)) for layer in layers])
        except ValueError as exc:
            raise InvalidInput(str(exc), field="layers") from exc
        missing = await self._users.missing(session, [u for layer in layers for u in layer.users])
        if missing:
            raise InvalidInput(f"unknown user id(s): {', '.join(missing)}", field="layers.users")

    async def _unique_name(self, session: AsyncSession, name: str, own: str | None) -> None:
        found = await session.execute(select(Schedule).where(Schedule.name == name))
        existing = found.scalar_one_or_none()
        if existing is not None and existing.id != own:
            raise Conflict(f"a schedule named '{name}' already exists", field="name")

    def _out(
        self, schedule: Schedule, overrides: list[ScheduleOverride], feed: bool = True
    ) -> ScheduleOut:
        url = f"{self._base_url}/api/v1/calendars/schedules/{schedule.ical_token}.ics"
        return ScheduleOut(
            id=schedule.id,
            name=schedule.name,
            description=schedule.description,
            time_zone=schedule.time_zone,
            layers=[LayerIn.model_validate(layer) for layer in schedule.layers],
            overrides=[OverrideOut.model_validate(o) for o in overrides],
            ical_url=url if feed else None,
            created_at=schedule.created_at,
            updated_at=schedule.updated_at,
        )


def _sees_feeds(actor: Principal) -> bool:
    """The secret feed URL outlives whoever read it, so it is shown to those who take
    shifts (responders and admins), not to viewers."""
    return actor.role >= Role.responder


def _check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidInput("end must be after start", field="end")
    if end - start > MAX_RANGE:
        raise InvalidInput("the range may span at most 366 days", field="end")


def _in_zone(layers: list[LayerIn], time_zone: str) -> list[LayerIn]:
    """The layers with times as instants: the one place a time without an offset is read
    (in the schedule's zone); before this the zone may be unknown (a patch of layers)."""
    try:
        zone = logic.validate_time_zone(time_zone)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="time_zone") from exc
    return [layer.in_zone(zone) for layer in layers]
