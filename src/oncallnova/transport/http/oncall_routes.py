"""Schedules, escalation policies, who is on call, and the iCalendar feeds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from oncallnova.core.authz import Role
from oncallnova.core.errors import NotFound
from oncallnova.core.validation import UtcDatetime
from oncallnova.oncall.policy_schemas import PolicyIn, PolicyList, PolicyOut, PolicyPatch
from oncallnova.oncall.schedule_schemas import (
    OnCallAt,
    OnCallNow,
    OverrideIn,
    OverrideOut,
    ScheduleIn,
    ScheduleList,
    ScheduleOut,
    SchedulePatch,
    ShiftList,
)
from oncallnova.runtime.services import Services
from oncallnova.transport.http.auth import Actor, needs
from oncallnova.transport.http.deps import instant, use_cases

router = APIRouter(prefix="/api/v1", tags=["on-call"])
ICS = "text/calendar; charset=utf-8"


class CalendarLink(BaseModel):
    ical_url: str


@router.post("/schedules", response_model=ScheduleOut, status_code=201, **needs(Role.admin))
async def create_schedule(request: Request, body: ScheduleIn, who: Actor) -> ScheduleOut:
    return await use_cases(request).schedules.create(who, body)


@router.get("/schedules", response_model=ScheduleList, **needs(Role.viewer))
async def list_schedules(request: Request, who: Actor) -> ScheduleList:
    return ScheduleList(items=await use_cases(request).schedules.list(who))


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut, **needs(Role.viewer))
async def get_schedule(request: Request, schedule_id: str, who: Actor) -> ScheduleOut:
    return await use_cases(request).schedules.get(who, schedule_id)


@router.patch("/schedules/{schedule_id}", response_model=ScheduleOut, **needs(Role.admin))
async def update_schedule(
    request: Request, schedule_id: str, body: SchedulePatch, who: Actor
) -> ScheduleOut:
    return await use_cases(request).schedules.update(who, schedule_id, body)


@router.delete(
    "/schedules/{schedule_id}", status_code=204, response_class=Response, **needs(Role.admin)
)
async def delete_schedule(request: Request, schedule_id: str, who: Actor) -> Response:
    await use_cases(request).schedules.delete(who, schedule_id)
    return Response(status_code=204)


@router.post(
    "/schedules/{schedule_id}/overrides",
    response_model=OverrideOut,
    status_code=201,
    **needs(Role.responder),
)
async def add_override(
    request: Request, schedule_id: str, body: OverrideIn, who: Actor
) -> OverrideOut:
    return await use_cases(request).schedules.add_override(who, schedule_id, body)


@router.delete(
    "/schedules/{schedule_id}/overrides/{override_id}",
    status_code=204,
    response_class=Response,
    **needs(Role.responder),
)
async def delete_override(
    request: Request, schedule_id: str, override_id: str, who: Actor
) -> Response:
    await use_cases(request).schedules.delete_override(who, schedule_id, override_id)
    return Response(status_code=204)


@router.get("/schedules/{schedule_id}/oncall", response_model=OnCallAt, **needs(Role.viewer))
async def schedule_oncall(
    request: Request,
    who: Actor,
    schedule_id: str,
    at: Annotated[UtcDatetime | None, Query(description="ISO 8601 instant; default now")] = None,
) -> OnCallAt:
    svc = use_cases(request)
    return await svc.schedules.oncall_at(who, schedule_id, instant(at, svc.clock.now()))


@router.get("/schedules/{schedule_id}/shifts", response_model=ShiftList, **needs(Role.viewer))
async def schedule_shifts(
    request: Request,
    who: Actor,
    schedule_id: str,
    start: Annotated[UtcDatetime, Query(description="ISO 8601")],
    end: Annotated[UtcDatetime, Query(description="ISO 8601; at most 366 days after start")],
) -> ShiftList:
    now = use_cases(request).clock.now()
    return await use_cases(request).schedules.shifts(
        who, schedule_id, instant(start, now), instant(end, now)
    )


@router.post(
    "/schedules/{schedule_id}/ical-token", response_model=CalendarLink, **needs(Role.admin)
)
async def rotate_schedule_feed(request: Request, schedule_id: str, who: Actor) -> CalendarLink:
    """A new secret feed URL; the old one stops working."""
    schedule = await use_cases(request).schedules.rotate_ical_token(who, schedule_id)
    return CalendarLink(ical_url=schedule.ical_url)


@router.post(
    "/users/{user_id}/ical-token",
    response_model=CalendarLink,
    tags=["users and teams"],
    **needs(Role.responder),
)
async def rotate_user_feed(request: Request, user_id: str, who: Actor) -> CalendarLink:
    svc = use_cases(request)
    token = await svc.users.rotate_ical_token(who, user_id)
    return CalendarLink(ical_url=f"{_base(svc)}/api/v1/calendars/users/{token}.ics")


@router.get(
    "/calendars/schedules/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def schedule_feed(request: Request, token: str) -> Response:
    """The schedule's final shifts (7 days back, 60 ahead) as iCalendar; the token is the key."""
    feed = await use_cases(request).schedules.schedule_feed(token)
    if feed is None:
        raise NotFound("unknown or rotated calendar token")
    return Response(feed, media_type=ICS)


@router.get(
    "/calendars/users/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def user_feed(request: Request, token: str) -> Response:
    svc = use_cases(request)
    user = await svc.users.by_ical_token(token)
    if user is None:
        raise NotFound("unknown or rotated calendar token")
    return Response(await svc.schedules.user_feed(user.id, user.name), media_type=ICS)


@router.get("/oncall", response_model=OnCallNow, **needs(Role.viewer))
async def oncall_now(
    request: Request,
    who: Actor,
    at: Annotated[UtcDatetime | None, Query(description="ISO 8601 instant; default now")] = None,
) -> OnCallNow:
    """Who is on call now (or at `at`): per schedule, and per service (its policy's first
    level)."""
    svc = use_cases(request)
    return await svc.oncall.now(who, instant(at, svc.clock.now()))


@router.post("/escalation-policies", response_model=PolicyOut, status_code=201, **needs(Role.admin))
async def create_policy(request: Request, body: PolicyIn, who: Actor) -> PolicyOut:
    return await use_cases(request).policies.create(who, body)


@router.get("/escalation-policies", response_model=PolicyList, **needs(Role.viewer))
async def list_policies(request: Request, who: Actor) -> PolicyList:
    return PolicyList(items=await use_cases(request).policies.list(who))


@router.get("/escalation-policies/{policy_id}", response_model=PolicyOut, **needs(Role.viewer))
async def get_policy(request: Request, policy_id: str, who: Actor) -> PolicyOut:
    return await use_cases(request).policies.get(who, policy_id)


@router.patch("/escalation-policies/{policy_id}", response_model=PolicyOut, **needs(Role.admin))
async def update_policy(
    request: Request, policy_id: str, body: PolicyPatch, who: Actor
) -> PolicyOut:
    """Changes apply to incidents opened later; running escalations keep their copy."""
    return await use_cases(request).policies.update(who, policy_id, body)


@router.delete(
    "/escalation-policies/{policy_id}",
    status_code=204,
    response_class=Response,
    **needs(Role.admin),
)
async def delete_policy(request: Request, policy_id: str, who: Actor) -> Response:
    await use_cases(request).policies.delete(who, policy_id)
    return Response(status_code=204)


def _base(svc: Services) -> str:
    return svc.settings.base_url.rstrip("/")
