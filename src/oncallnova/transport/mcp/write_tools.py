"""The write tools: act on incidents and schedules as the token's user.

Served only when enabled (`--enable-write-tools`, `MCP_WRITE_TOOLS=true`). Each is one
API call, so the API checks the role and writes the audit log exactly as for any other
client. Adding one is a function here and a method on `OnCallNovaApi`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from oncallnova.incidents.schemas import IncidentOut, TimelineOut
from oncallnova.oncall.schedule_schemas import OverrideOut
from oncallnova.suppression.schemas import MatcherIn, SilenceIn, SilenceOut
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


@write_tool("Silence alerts")
async def create_silence(
    ctx: Context,
    comment: Annotated[str, Field(min_length=1, max_length=10_000, description="Why (required).")],
    ends_at: Annotated[datetime, Field(description="ISO 8601 with an offset (e.g. ...Z).")],
    matchers: Annotated[
        list[MatcherIn] | None,
        Field(description="Label matchers, all of which an alert must match; or `incident`."),
    ] = None,
    incident: Annotated[
        str | None,
        Field(
            pattern=ID_PATTERN,
            description="Match the labels of this incident's alert, within its service "
            "(its id or number), instead of giving `matchers`.",
        ),
    ] = None,
    service_id: Annotated[
        str | None,
        Field(pattern=ID_PATTERN, description="Only this service's alerts (list_services)."),
    ] = None,
) -> SilenceOut:
    """Stop alerts matching label matchers from paging anyone until `ends_at` (planned
    work, a known flapping check). Silenced alerts are still stored and shown, tagged
    with the silence; open incidents whose alerts all match stop paging. Give `matchers`
    (name, op '=', '!=', '=~' or '!~', value) or an `incident` to silence alerts like
    its own. Needs the responder role."""
    oncallnova = api(ctx)
    if incident is not None and not matchers:
        draft = await oncallnova.silence_draft(await _incident_id(oncallnova, incident))
        matchers = [MatcherIn(name=m.name, op=m.op, value=m.value) for m in draft.matchers]
        service_id = service_id or draft.service_id
    if not matchers:
        raise ToolError("Give `matchers` (label name, op, value) or an `incident` to match.")
    try:
        silence = SilenceIn(
            matchers=matchers, ends_at=ends_at, service_id=service_id, comment=comment
        )
    except ValidationError as exc:
        problems = "; ".join(e["msg"] for e in exc.errors())
        raise ToolError(f"Invalid input: {problems}. Fix it and call again.") from exc
    return await oncallnova.create_silence(silence)


async def _incident_id(oncallnova: OnCallNovaApi, reference: str) -> str:
    """The API acts on incident ids; a short number is looked up first."""
    if reference.isdigit():
        return (await oncallnova.incident(reference)).id
    return reference
