"""Incident endpoints: list, detail, similar past incidents, acknowledge, resolve, notes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request

from oncallnova.core.authz import Role
from oncallnova.core.validation import MAX_OFFSET, UtcDatetime
from oncallnova.incidents.schemas import (
    ActionIn,
    IncidentDetail,
    IncidentFilter,
    IncidentOut,
    IncidentPage,
    NoteIn,
    ReassignIn,
    Severity,
    SimilarIncidents,
    Status,
    StatusCounts,
    TimelineOut,
)
from oncallnova.transport.http.auth import Actor, needs
from oncallnova.transport.http.deps import use_cases

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


def incident_filter(
    status: Annotated[list[Status] | None, Query()] = None,
    service_id: str | None = None,
    team_id: Annotated[str | None, Query(description="only the services of this team")] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the title")] = None,
    since: Annotated[
        UtcDatetime | None, Query(description="created at or after (ISO 8601)")
    ] = None,
    until: Annotated[UtcDatetime | None, Query(description="created before (ISO 8601)")] = None,
    silenced: Annotated[
        bool | None, Query(description="true: only incidents a silence holds; false: hide them")
    ] = None,
    maintenance: Annotated[
        bool | None,
        Query(description="true: only incidents a maintenance window holds; false: hide them"),
    ] = None,
    order: Annotated[Literal["newest", "triage"], Query()] = "newest",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> IncidentFilter:
    """The list filters, shared by the incident list and its counts."""
    return IncidentFilter(
        status=status,
        service_id=service_id,
        team_id=team_id or None,
        severity=severity,
        text=q.strip() or None if q else None,
        since=since,
        until=until,
        silenced=silenced,
        maintenance=maintenance,
        order=order,
        limit=limit,
        offset=offset,
    )


IncidentQuery = Annotated[IncidentFilter, Depends(incident_filter)]


@router.get(
    "", response_model=IncidentPage, summary="List incidents, newest first", **needs(Role.viewer)
)
async def list_incidents(request: Request, who: Actor, flt: IncidentQuery) -> IncidentPage:
    return await use_cases(request).incidents.list(who, flt)


@router.get(
    "/counts",
    response_model=StatusCounts,
    summary="How many incidents per status match the filters (status aside)",
    **needs(Role.viewer),
)
async def count_incidents(request: Request, who: Actor, flt: IncidentQuery) -> StatusCounts:
    return await use_cases(request).incidents.counts(who, flt)


@router.get(
    "/{incident_id}",
    response_model=IncidentDetail,
    summary="An incident, by its id or its short number (/api/v1/incidents/482)",
    **needs(Role.viewer),
)
async def get_incident(request: Request, incident_id: str, who: Actor) -> IncidentDetail:
    return await use_cases(request).incidents.detail(who, incident_id)


@router.get(
    "/{incident_id}/similar",
    response_model=SimilarIncidents,
    summary="Earlier incidents of the same service and correlation key, and how they ended",
    **needs(Role.viewer),
)
async def similar_incidents(
    request: Request,
    incident_id: str,
    who: Actor,
    limit: Annotated[int, Query(ge=1, le=50, description="how many to list, newest first")] = 10,
) -> SimilarIncidents:
    """Each with its resolution message, last notes, MTTA and MTTR; with the count, the
    resolved count and the mean MTTA and MTTR of all of them. `{incident_id}` may be the
    incident's number."""
    return await use_cases(request).similar_incidents.similar(who, incident_id, limit)


@router.post("/{incident_id}/acknowledge", response_model=IncidentOut, **needs(Role.responder))
async def acknowledge(
    request: Request, who: Actor, incident_id: str, body: Annotated[ActionIn | None, Body()] = None
) -> IncidentOut:
    body = body or ActionIn()
    return await use_cases(request).incidents.acknowledge(who, incident_id, body.message)


@router.post("/{incident_id}/resolve", response_model=IncidentOut, **needs(Role.responder))
async def resolve(
    request: Request, who: Actor, incident_id: str, body: Annotated[ActionIn | None, Body()] = None
) -> IncidentOut:
    body = body or ActionIn()
    return await use_cases(request).incidents.resolve(who, incident_id, body.message)


@router.post(
    "/{incident_id}/notes", response_model=TimelineOut, status_code=201, **needs(Role.responder)
)
async def add_note(request: Request, incident_id: str, body: NoteIn, who: Actor) -> TimelineOut:
    return await use_cases(request).incidents.add_note(who, incident_id, body.message)


@router.post("/{incident_id}/escalate", response_model=IncidentOut, **needs(Role.responder))
async def escalate(
    request: Request, who: Actor, incident_id: str, body: Annotated[ActionIn | None, Body()] = None
) -> IncidentOut:
    """Page the next level of the incident's escalation policy now."""
    del body  # the optional message is not used yet
    return await use_cases(request).escalation.escalate(who, incident_id)


@router.post("/{incident_id}/reassign", response_model=IncidentOut, **needs(Role.responder))
async def reassign(request: Request, incident_id: str, body: ReassignIn, who: Actor) -> IncidentOut:
    """Page a chosen user now, or restart escalation with another policy."""
    return await use_cases(request).escalation.reassign(
        who, incident_id, user_id=body.user_id, policy_id=body.escalation_policy_id
    )
