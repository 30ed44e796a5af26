"""Pages: sign-in, the incident list (live) and an incident (live)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from oncallnova.incidents.schemas import IncidentFilter
from oncallnova.transport.http.auth import principal
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.http.security import local_path
from oncallnova.transport.web.alert_views import alert_views
from oncallnova.transport.web.render import SEVERITIES, STATUSES, PageViewer, render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/incidents", status_code=303)


@router.get("/login")
async def login(request: Request, next: str = "/incidents") -> HTMLResponse:
    next = local_path(next, "/incidents")  # only this site: no open redirect
    if request.cookies.get("oncallnova_session"):
        try:
            await principal(request)
            return RedirectResponse(next, status_code=303)  # type: ignore[return-value]
        except Exception:  # noqa: S110 - an expired session just signs in again
            pass
    return render(request, None, "login.html", title="Sign in", next=next)


def _chosen(request: Request, name: str, allowed: tuple[str, ...]) -> list[str]:
    """A filter's values from the query string; empty and unknown values are ignored."""
    return [v for v in request.query_params.getlist(name) if v in allowed]


@router.get("/incidents")
async def incidents(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    params = request.query_params
    chosen = {
        "status": _chosen(request, "status", STATUSES),
        "severity": _chosen(request, "severity", SEVERITIES),
        "service_id": params.get("service_id", "").strip(),
        "team_id": params.get("team_id", "").strip(),
        "q": params.get("q", "").strip()[:200],
        # Checked boxes send "false": hide what a silence or a maintenance window holds.
        "silenced": params.get("silenced") == "false",
        "maintenance": params.get("maintenance") == "false",
    }
    services = await svc.catalog.list(page.who)
    teams = await svc.users.list_teams(page.who)
    flt = IncidentFilter(
        status=chosen["status"] or None,  # type: ignore[arg-type]
        severity=chosen["severity"] or None,  # type: ignore[arg-type]
        service_id=chosen["service_id"] or None,
        team_id=chosen["team_id"] or None,
        text=chosen["q"] or None,
        silenced=False if chosen["silenced"] else None,
        maintenance=False if chosen["maintenance"] else None,
        order="triage",
        limit=100,
    )
    listing = await svc.incidents.list(page.who, flt)
    counts = await svc.incidents.counts(page.who, flt)
    return render(
        request,
        page,
        "incidents.html",
        title="Incidents",
        live=True,
        listing=listing,
        counts=counts,
        services=services,
        teams=teams,
        chosen=chosen,
        filtered=any(chosen.values()),
    )


@router.get("/incidents/{incident_id}")
async def incident(request: Request, incident_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    item = await svc.incidents.detail(page.who, incident_id)  # /incidents/482 works too
    alerts, timeline, pages = item.alerts, item.timeline, item.pages
    user_ids = sorted({p.user_id for p in pages})
    names = await svc.schedules.names(user_ids) if user_ids else {}
    users = await svc.users.list_users(page.who) if page.can_respond else []
    policies = await svc.policies.list(page.who) if page.can_respond else []
    first_seen = min((a.first_seen for a in alerts), default=None)
    last_seen = max((a.last_seen for a in alerts), default=None)
    return render(
        request,
        page,
        "incident.html",
        title=f"#{item.number} {item.title}",
        live=True,
        incident=item,
        timeline=list(reversed(timeline)),
        alerts=alerts,
        views=alert_views(alerts),
        pages=pages,
        names=names,
        users=users,
        policies=policies,
        first_seen=first_seen,
        last_seen=last_seen,
    )
