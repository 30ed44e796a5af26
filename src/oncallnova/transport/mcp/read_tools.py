"""The read tools: incidents, who is on call, the catalogue, people and analytics.

Each is one API call. Secrets the API shows some users (integration keys, calendar
feed URLs) are blanked: an assistant never needs them, and its conversation may be
stored outside OnCallNova.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from oncallnova.analytics.schemas import AnalyticsQuery, DistributionOut, SummaryOut, TrendsOut
from oncallnova.incidents.schemas import (
    IncidentDetail,
    IncidentFilter,
    IncidentPage,
    Severity,
    SimilarIncidents,
    Status,
)
from oncallnova.oncall.policy_schemas import PolicyList
from oncallnova.oncall.schedule_schemas import OnCallNow, ScheduleList
from oncallnova.services.schemas import ServiceList
from oncallnova.transport.mcp.registry import ID_PATTERN, IncidentRef, api, read_tool
from oncallnova.users.schemas import TeamList, UserList

Instant = Annotated[
    datetime | None, Field(description="ISO 8601, e.g. 2026-03-01T09:00:00Z (UTC if no offset).")
]
Period = Annotated[
    str | None,
    Field(description="How far back from now: a number and h, d or w (24h, 7d, 2w); default 7d."),
]
Severities = Annotated[list[Severity] | None, Field(description="Only these severities.")]
ServiceName = Annotated[str | None, Field(description="Only this service: its name or id.")]
TeamName = Annotated[str | None, Field(description="Only this team's services: name or id.")]
Zone = Annotated[str, Field(description="IANA time zone of the answer, e.g. Europe/Paris.")]


@read_tool("List incidents")
async def list_incidents(
    ctx: Context,
    status: Annotated[
        list[Status] | None,
        Field(description="Only these; ['triggered', 'acknowledged'] is what is open now."),
    ] = None,
    severity: Severities = None,
    service_id: Annotated[
        str | None, Field(pattern=ID_PATTERN, description="From list_services.")
    ] = None,
    team_id: Annotated[
        str | None, Field(pattern=ID_PATTERN, description="From list_teams.")
    ] = None,
    text: Annotated[str | None, Field(max_length=200, description="Words in the title.")] = None,
    since: Instant = None,
    until: Instant = None,
    order: Annotated[
        Literal["triage", "newest"],
        Field(
            description="triage: triggered, then acknowledged, then resolved, most severe "
            "first; newest: by creation time."
        ),
    ] = "triage",
    limit: Annotated[int, Field(ge=1, le=500)] = 20,
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0,
) -> IncidentPage:
    """Find incidents: what is firing now, what happened on a service, or in a time range.

    Returns one page (`total` says how many match), each incident with its id, short
    number, service, severity, status, alert count, who acknowledged or resolved it and
    its MTTA/MTTR in seconds. Use get_incident for one incident's alerts and timeline.
    `since`/`until` bound the creation time."""
    flt = IncidentFilter(
        status=status,
        severity=severity,
        service_id=service_id,
        team_id=team_id,
        text=text,
        since=since,
        until=until,
        order=order,
        limit=limit,
        offset=offset,
    )
    return await api(ctx).incidents(flt)


@read_tool("Get an incident")
async def get_incident(ctx: Context, incident: IncidentRef) -> IncidentDetail:
    """One incident in full: its alerts (description, labels, details, runbook and other
    links), its timeline oldest first (opened, alerts joined, pages, acknowledgement,
    notes, escalations, resolution, with who did each), and who was paged at which
    escalation level."""
    return await api(ctx).incident(incident)


@read_tool("Similar past incidents")
async def similar_incidents(
    ctx: Context,
    incident: IncidentRef,
    limit: Annotated[int, Field(ge=1, le=50, description="How many to list.")] = 5,
) -> SimilarIncidents:
    """What happened last time: the earlier incidents of the same service and
    correlation key (the same kind of alert) as this one, newest first, each with how
    it was resolved (resolver, resolution message, notes) and how long it took (MTTA and
    MTTR in seconds); plus how many there were in all and their mean MTTA and MTTR."""
    return await api(ctx).similar(incident, limit)


@read_tool("Who is on call")
async def who_is_on_call(ctx: Context, at: Instant = None) -> OnCallNow:
    """Who is on call now, or at another instant (`at`): for every schedule, the users on
    call; for every service, whom its escalation policy's first level pages (the people
    an incident on it would reach first)."""
    return await api(ctx).oncall(at)


@read_tool("List schedules")
async def list_schedules(ctx: Context) -> ScheduleList:
    """Every on-call schedule: time zone, rotation layers (users in turn order, turn
    length, handoff time, restrictions) and overrides. Use who_is_on_call to know who is
    on call at an instant."""
    schedules = await api(ctx).schedules()
    for schedule in schedules.items:
        schedule.ical_url = None
    return schedules


@read_tool("List services")
async def list_services(ctx: Context) -> ServiceList:
    """Every service incidents are opened on: its id and name, team, escalation policy,
    and the alert fields it correlates on (alerts sharing them join one open incident)."""
    services = await api(ctx).services()
    for service in services.items:
        for key in service.integration_keys:
            key.key = None
    return services


@read_tool("List escalation policies")
async def list_escalation_policies(ctx: Context) -> PolicyList:
    """Every escalation policy: its levels in order, each with the users and schedules it
    pages and the delay before the next level, and how many times the levels repeat."""
    return await api(ctx).policies()


@read_tool("List teams")
async def list_teams(ctx: Context) -> TeamList:
    """Every team: its id, name and members (with their roles). A team id narrows
    list_incidents; a team name or id narrows the analytics tools."""
    return await api(ctx).teams()


@read_tool("List users")
async def list_users(ctx: Context) -> UserList:
    """Every user: id, name, email, role (viewer, responder, admin), time zone and contact
    methods. User ids appear in schedules, policies and on-call answers."""
    return await api(ctx).users()


@read_tool("Incident analytics summary")
async def analytics_summary(
    ctx: Context,
    period: Period = None,
    severity: Severities = None,
    service: ServiceName = None,
    team: TeamName = None,
    tz: Zone = "UTC",
) -> SummaryOut:
    """How a period went: open incidents now, incidents and alerts in the period, alerts
    per incident (noise), escalation rate, the busiest services and who acknowledged
    most."""
    return await api(ctx).summary(_query(period, severity, service, team, tz))


@read_tool("Incident trends")
async def incident_trends(
    ctx: Context,
    period: Period = None,
    bucket: Annotated[
        Literal["1h", "6h", "1d", "1w"], Field(description="Size of each time bucket.")
    ] = "1d",
    severity: Severities = None,
    service: ServiceName = None,
    team: TeamName = None,
    tz: Zone = "UTC",
) -> TrendsOut:
    """Incidents opened per time bucket, split by severity, with totals: is it getting
    better or worse?"""
    return await api(ctx).trends(_query(period, severity, service, team, tz), bucket)


@read_tool("MTTA and MTTR distribution")
async def mtta_mttr_distribution(
    ctx: Context,
    period: Period = None,
    severity: Severities = None,
    service: ServiceName = None,
    team: TeamName = None,
    tz: Zone = "UTC",
) -> DistributionOut:
    """How fast incidents are acknowledged (MTTA) and resolved (MTTR) in a period:
    count, mean, p50, p90, p99 in seconds and a cumulative histogram, overall and per
    severity."""
    return await api(ctx).distribution(_query(period, severity, service, team, tz))


def _query(
    period: str | None,
    severity: list[Severity] | None,
    service: str | None,
    team: str | None,
    tz: str,
) -> AnalyticsQuery:
    return AnalyticsQuery(
        period=period,
        severity=list(severity) if severity else None,
        service=service,
        team=team,
        tz=tz,
    )
