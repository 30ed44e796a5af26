"""Heartbeat endpoints: managing monitors, and the beat URL jobs call."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from oncallnova.core.authz import Role
from oncallnova.heartbeats.schemas import BeatOut, MonitorIn, MonitorList, MonitorOut, MonitorPatch
from oncallnova.transport.http import ratelimit
from oncallnova.transport.http.auth import Actor, needs
from oncallnova.transport.http.deps import use_cases

router = APIRouter(tags=["heartbeats"])
MONITORS = "/api/v1/heartbeat-monitors"
_BEAT_ERRORS = {
    404: {"description": "Unknown heartbeat token"},
    429: {"description": "Too many beats; retry after `Retry-After` seconds"},
}


async def _beat(request: Request, token: str) -> BeatOut:
    await ratelimit.check_key(request, token)  # limited per token, as integration keys are
    return await use_cases(request).beats.beat(token)


@router.post(
    "/api/v1/heartbeats/{token}",
    response_model=BeatOut,
    summary="Beat: the monitor is alive (the token is the only credential)",
    responses=_BEAT_ERRORS,
)
async def beat_post(request: Request, token: str) -> BeatOut:
    """Moves the monitor's deadline one interval ahead; the first beat activates it, and
    a beat after an expiry resolves its alert. Any body is ignored."""
    return await _beat(request, token)


@router.get(
    "/api/v1/heartbeats/{token}",
    response_model=BeatOut,
    summary="Beat with GET, for tools that can only fetch a URL",
    responses=_BEAT_ERRORS,
)
async def beat_get(request: Request, token: str) -> BeatOut:
    return await _beat(request, token)


@router.post(
    MONITORS,
    response_model=MonitorOut,
    status_code=201,
    summary="Create a heartbeat monitor (answers with its token and beat URL)",
    **needs(Role.admin),
)
async def create_monitor(request: Request, body: MonitorIn, who: Actor) -> MonitorOut:
    return await use_cases(request).heartbeats.create(who, body)


@router.get(
    MONITORS, response_model=MonitorList, summary="List heartbeat monitors", **needs(Role.viewer)
)
async def list_monitors(request: Request, who: Actor, service_id: str | None = None) -> MonitorList:
    return MonitorList(items=await use_cases(request).heartbeats.list(who, service_id))


@router.get(
    MONITORS + "/{monitor_id}",
    response_model=MonitorOut,
    summary="A heartbeat monitor, with its state and last beat",
    **needs(Role.viewer),
)
async def get_monitor(request: Request, monitor_id: str, who: Actor) -> MonitorOut:
    return await use_cases(request).heartbeats.get(who, monitor_id)


@router.patch(
    MONITORS + "/{monitor_id}",
    response_model=MonitorOut,
    summary="Change a monitor's name, interval or severity",
    **needs(Role.admin),
)
async def update_monitor(
    request: Request, monitor_id: str, body: MonitorPatch, who: Actor
) -> MonitorOut:
    return await use_cases(request).heartbeats.update(who, monitor_id, body)


@router.delete(
    MONITORS + "/{monitor_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a monitor (resolving the alert of an expiry)",
    **needs(Role.admin),
)
async def delete_monitor(request: Request, monitor_id: str, who: Actor) -> Response:
    await use_cases(request).heartbeats.delete(who, monitor_id)
    return Response(status_code=204)
