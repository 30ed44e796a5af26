"""Silence and maintenance window endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from oncallnova.core.authz import Role
from oncallnova.suppression.schemas import (
    SilenceDraft,
    SilenceIn,
    SilenceList,
    SilenceOut,
    SilencePatch,
    SilenceStatus,
    WindowIn,
    WindowList,
    WindowOut,
    WindowPatch,
    WindowStatus,
)
from oncallnova.transport.http.auth import Actor, needs
from oncallnova.transport.http.deps import use_cases

router = APIRouter(tags=["silences and maintenance"])
SILENCES = "/api/v1/silences"
WINDOWS = "/api/v1/maintenance-windows"
Reason = Annotated[str | None, Query(max_length=10_000, description="Why (kept in the trail).")]


@router.post(
    SILENCES,
    response_model=SilenceOut,
    status_code=201,
    summary="Create a silence (label matchers, AND-ed, for a time range)",
    **needs(Role.responder),
)
async def create_silence(request: Request, body: SilenceIn, who: Actor) -> SilenceOut:
    """Alerts it matches are stored, tagged with it, and page nobody; open incidents
    whose firing alerts it all matches stop paging at once."""
    return await use_cases(request).silences.create(who, body)


@router.get(SILENCES, response_model=SilenceList, summary="List silences", **needs(Role.viewer))
async def list_silences(
    request: Request,
    who: Actor,
    status: Annotated[list[SilenceStatus] | None, Query()] = None,
    service_id: str | None = None,
) -> SilenceList:
    items = await use_cases(request).silences.list(
        who, service_id=service_id, status=list(status or [])
    )
    return SilenceList(items=items)


@router.get(
    SILENCES + "/draft",
    response_model=SilenceDraft,
    summary="A silence filled in from an incident's alert labels, to review and create",
    **needs(Role.viewer),
)
async def draft_silence(
    request: Request, who: Actor, incident_id: Annotated[str, Query(min_length=1)]
) -> SilenceDraft:
    return await use_cases(request).silences.draft(who, incident_id)


@router.get(
    SILENCES + "/{silence_id}",
    response_model=SilenceOut,
    summary="A silence, with its trail of changes",
    **needs(Role.viewer),
)
async def get_silence(request: Request, silence_id: str, who: Actor) -> SilenceOut:
    return await use_cases(request).silences.get(who, silence_id)


@router.patch(
    SILENCES + "/{silence_id}",
    response_model=SilenceOut,
    summary="Change a silence that has not expired",
    **needs(Role.responder),
)
async def update_silence(
    request: Request, silence_id: str, body: SilencePatch, who: Actor
) -> SilenceOut:
    return await use_cases(request).silences.update(who, silence_id, body)


@router.delete(
    SILENCES + "/{silence_id}",
    status_code=204,
    response_class=Response,
    summary="Expire an active silence now; remove a pending or expired one",
    **needs(Role.responder),
)
async def end_silence(
    request: Request, silence_id: str, who: Actor, reason: Reason = None
) -> Response:
    await use_cases(request).silences.end(who, silence_id, reason)
    return Response(status_code=204)


@router.post(
    WINDOWS,
    response_model=WindowOut,
    status_code=201,
    summary="Create a maintenance window for some services (now or scheduled)",
    **needs(Role.responder),
)
async def create_window(request: Request, body: WindowIn, who: Actor) -> WindowOut:
    """While it runs, alerts to its services are stored and shown but page nobody."""
    return await use_cases(request).maintenance.create(who, body)


@router.get(
    WINDOWS, response_model=WindowList, summary="List maintenance windows", **needs(Role.viewer)
)
async def list_windows(
    request: Request,
    who: Actor,
    status: Annotated[list[WindowStatus] | None, Query()] = None,
    service_id: str | None = None,
) -> WindowList:
    items = await use_cases(request).maintenance.list(
        who, service_id=service_id, status=list(status or [])
    )
    return WindowList(items=items)


@router.get(
    WINDOWS + "/{window_id}",
    response_model=WindowOut,
    summary="A maintenance window, with its trail of changes",
    **needs(Role.viewer),
)
async def get_window(request: Request, window_id: str, who: Actor) -> WindowOut:
    return await use_cases(request).maintenance.get(who, window_id)


@router.patch(
    WINDOWS + "/{window_id}",
    response_model=WindowOut,
    summary="Change a maintenance window that has not ended",
    **needs(Role.responder),
)
async def update_window(
    request: Request, window_id: str, body: WindowPatch, who: Actor
) -> WindowOut:
    return await use_cases(request).maintenance.update(who, window_id, body)


@router.delete(
    WINDOWS + "/{window_id}",
    status_code=204,
    response_class=Response,
    summary="End a running window now; remove a scheduled or ended one",
    **needs(Role.responder),
)
async def end_window(
    request: Request, window_id: str, who: Actor, reason: Reason = None
) -> Response:
    await use_cases(request).maintenance.end(who, window_id, reason)
    return Response(status_code=204)
