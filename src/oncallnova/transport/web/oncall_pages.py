"""Pages: who is on call now (per team and service), the schedules, and a schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from oncallnova.core.authz import Principal
from oncallnova.oncall import logic
from oncallnova.oncall.schedule_schemas import LayerIn, RestrictionIn, ScheduleOut, ShiftOut
from oncallnova.runtime.services import Services
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.web.render import PageViewer, render, time_zones, when

router = APIRouter(include_in_schema=False)
AHEAD = timedelta(days=31)  # how far "who is next" looks
DAYS = 14  # the schedule page's timeline
COLORS = 8  # user colours on the timeline (classes u0…u7 in app.css)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Rota:
    """One schedule now: who is on call until when, and who comes next."""

    id: str
    name: str
    time_zone: str
    current: ShiftOut | None
    until: datetime | None  # None: nobody now, or no change within AHEAD
    next: ShiftOut | None


@dataclass
class ServiceRow:
    id: str
    name: str
    team_id: str | None
    policy: str | None
    now: list[str] = field(default_factory=list)  # whom the policy's first level pages now
    rotas: list[Rota] = field(default_factory=list)  # the schedules that level pages


@dataclass(frozen=True)
class Bar:
    """A shift on one day of the timeline; x and width on a 0…1000 day."""

    name: str
    times: str
    x: float
    width: float
    color: int
    source: str


@dataclass(frozen=True)
class Day:
    start: datetime
    bars: list[Bar]
    now_x: float | None


def handoff(
    shifts: list[ShiftOut], now: datetime, horizon: datetime
) -> tuple[ShiftOut | None, datetime | None, ShiftOut | None]:
    """From a schedule's final shifts: the current one (contiguous shifts of the same
    person joined), when it ends (None when not before `horizon`), and the next shift."""
    rest = [s for s in shifts if s.end > now]
    current = None
    if rest and rest[0].start <= now:
        current = rest.pop(0)
        while rest and rest[0].user_id == current.user_id and rest[0].start == current.end:
            current = current.model_copy(update={"end": rest.pop(0).end})
    nxt = rest[0] if rest else None
    until = current.end if current and (nxt or current.end < horizon) else None
    return current, until, nxt


async def rota(svc: Services, who: Principal, schedule: ScheduleOut) -> Rota:
    now = svc.clock.now()
    listing = await svc.schedules.shifts(who, schedule.id, now, now + AHEAD)
    current, until, nxt = handoff(listing.shifts, now, now + AHEAD)
    return Rota(schedule.id, schedule.name, schedule.time_zone, current, until, nxt)


async def service_rows(svc: Services, who: Principal, rotas: dict[str, Rota]) -> list[ServiceRow]:
    """Per service what `GET /api/v1/oncall` answers (whom its policy's first level pages
    now), with the handoffs of the schedules that level pages."""
    return [
        ServiceRow(
            s.id,
            s.name,
            s.team_id,
            s.policy_name,
            now=list(s.user_names),
            rotas=[rotas[i] for i in s.schedule_ids if i in rotas],
        )
        for s in await svc.oncall.services_on_call(who)
    ]


@router.get("/oncall")
async def oncall(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    rotas = {s.id: await rota(svc, page.who, s) for s in await svc.schedules.list(page.who)}
    services = await service_rows(svc, page.who, rotas)
    teams = await svc.users.list_teams(page.who)
    known = {t.id for t in teams}
    return render(
        request,
        page,
        "oncall.html",
        title="On call now",
        rotas=list(rotas.values()),
        services=services,
        groups=[(t, [s for s in services if s.team_id == t.id]) for t in teams],
        loose=[s for s in services if s.team_id not in known],
        horizon_days=AHEAD.days,
    )


@router.get("/schedules")
async def schedules(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    items = await svc.schedules.list(page.who)
    rotas = {s.id: await rota(svc, page.who, s) for s in items}
    users = await svc.users.list_users(page.who) if page.is_admin else []
    return render(
        request,
        page,
        "schedules.html",
        title="Schedules",
        schedules=items,
        rotas=rotas,
        users=users,
        zones=time_zones() if page.is_admin else [],
        horizon_days=AHEAD.days,
    )


@router.get("/schedules/{schedule_id}")
async def schedule(request: Request, schedule_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    item = await svc.schedules.get(page.who, schedule_id)
    users = await svc.users.list_users(page.who)
    names = {u.id: u.name for u in users}
    now = svc.clock.now()
    today = now.astimezone(page.zone).date()
    bounds = [midnight(today + timedelta(days=i), page.zone) for i in range(DAYS + 1)]
    listing = await svc.schedules.shifts(page.who, item.id, bounds[0], bounds[-1])
    order = [u for layer in item.layers for u in layer.users]
    order += [o.user_id for o in item.overrides] + [s.user_id for s in listing.shifts]
    colors = {u: n % COLORS for n, u in enumerate(dict.fromkeys(order))}
    days = [
        day(listing.shifts, bounds[i], bounds[i + 1], now, page.zone, colors, names)
        for i in range(DAYS)
    ]
    return render(
        request,
        page,
        "schedule.html",
        title=item.name,
        schedule=item,
        rota=await rota(svc, page.who, item),
        days=days,
        legend=[(names.get(u, u), c) for u, c in colors.items()],
        layers=[layer_view(layer, names) for layer in reversed(item.layers)],
        overrides=sorted(item.overrides, key=lambda o: o.start, reverse=True),
        users=users,
        names=names,
        horizon_days=AHEAD.days,
    )


def midnight(on: date, zone: ZoneInfo) -> datetime:
    """The start of a local day, in UTC."""
    return datetime(on.year, on.month, on.day, tzinfo=zone).astimezone(UTC)


def day(
    shifts: list[ShiftOut],
    lo: datetime,
    hi: datetime,
    now: datetime,
    zone: ZoneInfo,
    colors: dict[str, int],
    names: dict[str, str],
) -> Day:
    """One local day of the timeline (23 to 25 hours across daylight-saving changes)."""
    span = (hi - lo).total_seconds()
    bars = []
    for s in shifts:
        if s.start >= hi or s.end <= lo:
            continue
        a, b = max(s.start, lo), min(s.end, hi)
        end = "24:00" if b == hi else when(b, zone, "%H:%M")
        bars.append(
            Bar(
                name=s.user_name or names.get(s.user_id, s.user_id),
                times=f"{when(a, zone, '%H:%M')}\u2013{end}",
                x=round((a - lo).total_seconds() / span * 1000, 2),
                width=round((b - a).total_seconds() / span * 1000, 2),
                color=colors.get(s.user_id, 0),
                source=s.source,
            )
        )
    now_x = round((now - lo).total_seconds() / span * 1000, 2) if lo <= now < hi else None
    return Day(lo.astimezone(zone), bars, now_x)


def layer_view(layer: LayerIn, names: dict[str, str]) -> dict[str, object]:
    turn = layer.turn if isinstance(layer.turn, str) else f"every {layer.turn:g} hours"
    return {
        "name": layer.name,
        "turn": turn,
        "handoff": layer.handoff,
        "end": layer.end,
        "users": [names.get(u, f"unknown user {u}") for u in layer.users],
        "restrictions": [restriction_text(r) for r in layer.restrictions],
    }


def restriction_text(r: RestrictionIn) -> str:
    if r.start_day is None or r.end_day is None:
        return f"every day {r.start}\u2013{r.end}"
    first, last = logic.parse_day(r.start_day), logic.parse_day(r.end_day)
    return f"{DAY_NAMES[first]} {r.start} to {DAY_NAMES[last]} {r.end}"
