"""Pages: heartbeat monitors, maintenance windows and silences."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from oncallnova.runtime.services import Services
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.web.render import PageViewer, Viewer, render

router = APIRouter(include_in_schema=False)
STARTER_MATCHERS = [{"name": "alertname", "op": "=", "value": ""}]


def _iso(value: datetime) -> str:
    """An instant as the forms send it: ISO 8601 in UTC, to the second."""
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _matchers_json(matchers: list[dict[str, str]]) -> str:
    """Matchers as the silence forms send them: a JSON list, one matcher per line."""
    return "[\n  " + ",\n  ".join(json.dumps(m) for m in matchers) + "\n]"


async def _services(svc: Services, page: Viewer) -> dict[str, str]:
    return {s.id: s.name for s in await svc.catalog.list(page.who)}


# --- heartbeat monitors -----------------------------------------------------------------


@router.get("/heartbeats")
async def heartbeats(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    return render(
        request,
        page,
        "heartbeats.html",
        title="Heartbeats",
        live=True,
        monitors=await svc.heartbeats.list(page.who),
        services=await _services(svc, page),
    )


@router.get("/heartbeats/{monitor_id}")
async def heartbeat(request: Request, monitor_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    item = await svc.heartbeats.get(page.who, monitor_id)
    return render(request, page, "heartbeat.html", title=item.name, live=True, monitor=item)


# --- maintenance windows ----------------------------------------------------------------


@router.get("/maintenance")
async def maintenance(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    now = svc.clock.now()
    return render(
        request,
        page,
        "maintenance.html",
        title="Maintenance",
        live=True,
        windows=await svc.maintenance.list(page.who),
        services=await _services(svc, page),
        default_end=_iso(now + timedelta(hours=1)),
    )


@router.get("/maintenance/{window_id}")
async def maintenance_window(request: Request, window_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    item = await svc.maintenance.get(page.who, window_id)
    return render(
        request,
        page,
        "maintenance_window.html",
        title=item.description.splitlines()[0][:80],
        live=True,
        window=item,
        services=await _services(svc, page),
        iso=_iso,
    )


# --- silences ---------------------------------------------------------------------------


@router.get("/silences")
async def silences(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    return render(
        request,
        page,
        "silences.html",
        title="Silences",
        live=True,
        silences=await svc.silences.list(page.who),
    )


@router.get("/silences/new")
async def new_silence(request: Request, page: PageViewer) -> HTMLResponse:
    """The new-silence form; `?incident=ID` fills it from that incident's alert."""
    svc = use_cases(request)
    now = svc.clock.now()
    incident_id = request.query_params.get("incident", "").strip()
    draft = await svc.silences.draft(page.who, incident_id) if incident_id else None
    matchers = [m.model_dump() for m in draft.matchers] if draft else STARTER_MATCHERS
    return render(
        request,
        page,
        "silence_new.html",
        title="New silence",
        draft=draft,
        matchers_json=_matchers_json(matchers),
        services=await _services(svc, page),
        ends_at=_iso(draft.ends_at if draft else now + timedelta(hours=2)),
    )


@router.get("/silences/{silence_id}")
async def silence(request: Request, silence_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    item = await svc.silences.get(page.who, silence_id)
    return render(
        request,
        page,
        "silence.html",
        title="Silence",
        live=True,
        silence=item,
        matchers_json=_matchers_json([m.model_dump() for m in item.matchers]),
        services=await _services(svc, page),
        iso=_iso,
    )
