"""The write tools: act on incidents and schedules as the token's user.

Served only when enabled (`--enable-write-tools`, `MCP_WRITE_TOOLS=true`). Each is one
API call, so the API checks the role and writes the audit log exactly as for any other
client. Adding one is a function here and a method on `OnCallNovaApi`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from oncallnova.incidents.schemas import IncidentOut, TimelineOut
from oncallnova.oncall.schedule_schemas import OverrideOut
from oncallnova.transport.mcp.client import OnCallNovaApi
from oncallnova.transport.mcp.registry import ID_PATTERN, IncidentRef, Message, api, write_tool

When = Annotated[
    datetime,
    Field(description="ISO 8601; without an offset it is read in the schedule's time zone."),
]


@write_tool("Acknowledge an incident")
async def acknowledge_incident(
    ctx: Context, incident: IncidentRef, message: Message = None
) -> IncidentOut:
    """Acknowledge a triggered incident: someone is on it, so escalation stops paging.
    Needs the responder role. Refused if it is already acknowledged or resolved."""
    oncallnova = api(ctx)
    return await oncallnova.acknowledge(await _incident_id(oncallnova, incident), message)


@write_tool("Resolve an incident", destructive=True)
async def resolve_incident(
    ctx: Context, incident: IncidentRef, message: Message = None
) -> IncidentOut:
    """Resolve an incident (and its alerts): the problem is fixed. Say how in `message`;
    it is what similar_incidents shows the next responder. Needs the responder role."""
    oncallnova = api(ctx)
    return await oncallnova.resolve(await _incident_id(oncallnova, incident), message)


@write_tool("Add a note to an incident")
async def add_incident_note(
    ctx: Context,
    incident: IncidentRef,
    message: Annotated[str, Field(min_length=1, max_length=10_000)],
) -> TimelineOut:
    """Add a note to an incident's timeline (findings, actions taken, next steps).
    Needs the responder role."""
    oncallnova = api(ctx)
    return await oncallnova.add_note(await _incident_id(oncallnova, incident), message)


@write_tool("Escalate an incident", pages_people=True)
async def escalate_incident(ctx: Context, incident: IncidentRef) -> IncidentOut:
    """Page the next level of the incident's escalation policy now (an acknowledged
    incident becomes triggered again). Needs the responder role."""
    oncallnova = api(ctx)
    return await oncallnova.escalate(await _incident_id(oncallnova, incident))


@write_tool("Create a schedule override")
async def create_schedule_override(
    ctx: Context,
    schedule_id: Annotated[str, Field(pattern=ID_PATTERN, description="From list_schedules.")],
    user_id: Annotated[str, Field(pattern=ID_PATTERN, description="From list_users.")],
    start: When,
    end: When,
) -> OverrideOut:
    """Put a user on call in a schedule from `start` to `end`, in place of whoever the
    rotation has then (e.g. to cover for someone). Needs the responder role."""
    return await api(ctx).add_override(schedule_id, user_id, start, end)


async def _incident_id(oncallnova: OnCallNovaApi, reference: str) -> str:
    """The API acts on incident ids; a short number is looked up first."""
    if reference.isdigit():
        return (await oncallnova.incident(reference)).id
    return reference
