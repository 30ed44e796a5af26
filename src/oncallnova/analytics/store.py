"""Analytics queries: aggregates computed by the database. Takes a session; never commits.

Each query returns a handful of grouped rows, never the incidents themselves, so the
cost on the wire does not grow with the number of incidents. The same SQLAlchemy Core
runs on SQLite and PostgreSQL; the one dialect difference (seconds since the epoch of a
timestamp) is `_epoch`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from oncallnova.alerts.models import Alert
from oncallnova.analytics.logic import HISTOGRAM_EDGES, PERCENTILES
from oncallnova.analytics.schemas import Scope
from oncallnova.incidents.logic import OPEN_STATES
from oncallnova.incidents.models import Incident
from oncallnova.services.models import Service
from oncallnova.users.models import Team


async def find_id(session: AsyncSession, what: Literal["service", "team"], ref: str) -> str | None:
    """The id of the service (or team) whose id is `ref`, else whose (unique) name is."""
    table: type[Service] | type[Team] = Service if what == "service" else Team
    rows = await session.execute(
        select(table.id).where(or_(table.id == ref, table.name == ref)).limit(2)
    )
    found = [str(i) for i in rows.scalars()]
    return ref if ref in found else (found[0] if found else None)


def _filters(scope: Scope) -> list[ColumnElement[bool]]:
    """Severity, service and team filters (not the period)."""
    found: list[ColumnElement[bool]] = []
    if scope.severities:
        found.append(Incident.severity.in_(scope.severities))
    if scope.service_id:
        found.append(Incident.service_id == scope.service_id)
    if scope.team_id:
        team = select(Service.id).where(Service.team_id == scope.team_id)
        found.append(Incident.service_id.in_(team))
    return found


def _in_period(column: Any, scope: Scope) -> ColumnElement[bool]:
    return and_(column >= scope.start, column <= scope.end)


def _epoch(dialect: str, column: Any) -> ColumnElement[Any]:
    """Whole seconds since 1970 of a UTC timestamp column."""
    if dialect == "sqlite":  # stored as naive UTC text, which strftime reads as UTC
        return cast(func.strftime("%s", column), Integer)
    return type_coerce(extract("epoch", column), Float)


async def trend_slots(
    session: AsyncSession, dialect: str, scope: Scope, origin: datetime, slot: int
) -> list[tuple[int, str, int]]:
    """(slot number, severity, incidents) for incidents in the scope, where slot n covers
    [origin + n*slot, origin + (n+1)*slot) seconds."""
    offset = _epoch(dialect, Incident.created_at) - literal(int(origin.timestamp()), BigInteger)
    number = offset // slot if dialect == "sqlite" else cast(func.floor(offset / slot), Integer)
    rows = (
        select(number.label("slot"), Incident.severity.label("severity"))
        .where(_in_period(Incident.created_at, scope), *_filters(scope))
        .subquery()
    )
    # Grouping the subquery's columns, not the expression, keeps PostgreSQL from seeing
    # two differently bound copies of it.
    query = select(rows.c.slot, rows.c.severity, func.count()).group_by(
        rows.c.slot, rows.c.severity
    )
    return [(int(s), str(sev), int(n)) for s, sev, n in await session.execute(query)]


def _durations(scope: Scope) -> Subquery:
    """(metric, severity, x): MTTA and MTTR seconds of the scope's incidents that have one."""
    period = _in_period(Incident.created_at, scope)
    parts: list[Select[Any]] = []
    for metric, column in (("mtta", Incident.mtta_seconds), ("mttr", Incident.mttr_seconds)):
        parts.append(
            select(
                literal_column(f"'{metric}'").label("metric"),
                Incident.severity.label("severity"),
                column.label("x"),
            ).where(period, column.is_not(None), *_filters(scope))
        )
    return union_all(*parts).subquery()


async def duration_bins(
    session: AsyncSession, scope: Scope
) -> list[tuple[str, str, int, int, float]]:
    """(metric, severity, histogram bin, count, sum of seconds) per non-empty bin."""
    d = _durations(scope)
    whens = [(d.c.x <= edge, literal_column(str(i))) for i, edge in enumerate(HISTOGRAM_EDGES)]
    binned = select(
        d.c.metric,
        d.c.severity,
        d.c.x,
        case(*whens, else_=literal_column(str(len(HISTOGRAM_EDGES)))).label("bin"),
    ).subquery()
    query = select(
        binned.c.metric, binned.c.severity, binned.c.bin, func.count(), func.sum(binned.c.x)
    ).group_by(binned.c.metric, binned.c.severity, binned.c.bin)
    return [
        (str(m), str(s), int(b), int(n), float(total))
        for m, s, b, n, total in await session.execute(query)
    ]


async def duration_percentiles(
    session: AsyncSession, scope: Scope
) -> list[tuple[str, str, float, int, int, int, int]]:
    """The rows that are a nearest-rank percentile, per severity or overall: (metric,
    severity, x, rank in severity, count in severity, rank overall, count overall).

    The rank of the p-th percentile among n values is ceil(p*n/100), written in integers
    as (p*n + 99) / 100 so both databases agree (see logic.nearest_rank)."""
    d = _durations(scope)
    group = (d.c.metric, d.c.severity)
    ranked = select(
        d.c.metric,
        d.c.severity,
        d.c.x,
        func.row_number().over(partition_by=group, order_by=d.c.x).label("rn"),
        func.count().over(partition_by=group).label("n"),
        func.row_number().over(partition_by=d.c.metric, order_by=d.c.x).label("rn_all"),
        func.count().over(partition_by=d.c.metric).label("n_all"),
    ).subquery()
    c = ranked.c
    wanted = [c.rn == (c.n * p + 99) // 100 for p in PERCENTILES]
    wanted += [c.rn_all == (c.n_all * p + 99) // 100 for p in PERCENTILES]
    query = select(c.metric, c.severity, c.x, c.rn, c.n, c.rn_all, c.n_all).where(or_(*wanted))
    return [
        (str(m), str(s), float(x), int(rn), int(n), int(rn_all), int(n_all))
        for m, s, x, rn, n, rn_all, n_all in await session.execute(query)
    ]


async def counts(session: AsyncSession, scope: Scope) -> tuple[int, int, int]:
    """(open now, created in the period, of those escalated past their first page)."""
    in_period = _in_period(Incident.created_at, scope)
    is_open = Incident.status.in_(OPEN_STATES)
    # Stored levels count from 0 (the API shows them from 1): level index 1 is level 2.
    escalated = or_(Incident.escalation_level >= 1, Incident.escalation_round >= 1)
    query = select(
        func.coalesce(func.sum(case((is_open, 1), else_=0)), 0),
        func.coalesce(func.sum(case((in_period, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(in_period, escalated), 1), else_=0)), 0),
    ).where(or_(is_open, in_period), *_filters(scope))
    open_now, created, escalated_count = (await session.execute(query)).one()
    return int(open_now), int(created), int(escalated_count)


async def alerts_received(session: AsyncSession, scope: Scope) -> int:
    """Sum of `count` (first sighting plus repeats) of the alerts of the scope's incidents."""
    query = (
        select(func.coalesce(func.sum(Alert.count), 0))
        .join(Incident, Incident.id == Alert.incident_id)
        .where(_in_period(Incident.created_at, scope), *_filters(scope))
    )
    return int((await session.execute(query)).scalar_one())


async def top_services(
    session: AsyncSession, scope: Scope, limit: int
) -> list[tuple[str, str, int]]:
    incidents = func.count().label("incidents")
    query = (
        select(Service.id, Service.name, incidents)
        .join(Incident, Incident.service_id == Service.id)
        .where(_in_period(Incident.created_at, scope), *_filters(scope))
        .group_by(Service.id, Service.name)
        .order_by(incidents.desc(), Service.name)
        .limit(limit)
    )
    return [(str(i), str(name), int(n)) for i, name, n in await session.execute(query)]


async def acks_by_responder(
    session: AsyncSession, scope: Scope, limit: int
) -> list[tuple[str, int]]:
    """Acknowledgements made in the period, per responder (as shown on the timeline)."""
    acks = func.count().label("acks")
    query = (
        select(Incident.acknowledged_by, acks)
        .where(
            Incident.acknowledged_by.is_not(None),
            _in_period(Incident.acknowledged_at, scope),
            *_filters(scope),
        )
        .group_by(Incident.acknowledged_by)
        .order_by(acks.desc(), Incident.acknowledged_by)
        .limit(limit)
    )
    return [(str(who), int(n)) for who, n in await session.execute(query)]
