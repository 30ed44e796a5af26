"""Pages: services (integration keys), escalation policies and outgoing webhooks."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from oncallnova.incidents.schemas import IncidentFilter
from oncallnova.notify.schemas import ALL_EVENTS
from oncallnova.runtime.services import Services
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.web.render import PageViewer, Viewer, render

router = APIRouter(include_in_schema=False)
DELIVERIES = 100


def _base_url(request: Request, svc: Services) -> str:
    """Where monitoring tools reach this server: ONCALLNOVA_BASE_URL when it is set,
    else the address this page was opened at."""
    if "base_url" in svc.settings.model_fields_set:
        return svc.settings.base_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def _curl(base: str, key: str) -> str:
    """A command that sends one test alert to a service."""
    body = '{"title": "Test alert from curl", "severity": "low"}'
    return (
        f"curl -X POST {base}/api/v1/alerts \\\n"
        f"  -H 'X-Routing-Key: {key}' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{body}'"
    )


async def _names(svc: Services, page: Viewer) -> dict[str, dict[str, str]]:
    """Display names of the targets policies may name: users and schedules by id."""
    users = await svc.users.list_users(page.who)
    schedules = await svc.schedules.list(page.who)
    return {"user": {u.id: u.name for u in users}, "schedule": {s.id: s.name for s in schedules}}


def _levels_json(levels: list[Any]) -> str:
    """Levels as the JSON the policy forms send: a list with one level per line."""
    lines = [json.dumps(level) for level in levels]
    return "[\n  " + ",\n  ".join(lines) + "\n]"


# --- services ---------------------------------------------------------------------------


@router.get("/services")
async def services(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    items = await svc.catalog.list(page.who)
    teams = {t.id: t.name for t in await svc.users.list_teams(page.who)}
    policies = {p.id: p.name for p in await svc.policies.list(page.who)}
    return render(
        request,
        page,
        "services.html",
        title="Services",
        services=items,
        teams=teams,
        policies=policies,
        open_counts=await svc.incidents.open_per_service(page.who),
    )


@router.get("/services/{service_id}")
async def service(request: Request, service_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    item = await svc.catalog.get(page.who, service_id)
    teams = await svc.users.list_teams(page.who)
    policies = await svc.policies.list(page.who)
    counts = await svc.incidents.counts(page.who, IncidentFilter(service_id=service_id))
    active = [k for k in item.integration_keys if k.revoked_at is None]
    base = _base_url(request, svc)
    return render(
        request,
        page,
        "service.html",
        title=item.name,
        service=item,
        teams=teams,
        team_names={t.id: t.name for t in teams},
        policies=policies,
        policy_names={p.id: p.name for p in policies},
        counts=counts,
        active_keys=active,
        revoked_keys=[k for k in item.integration_keys if k.revoked_at is not None],
        base=base,
        curl=_curl(base, active[0].key if active and active[0].key else "YOUR-INTEGRATION-KEY"),
    )


# --- escalation policies ----------------------------------------------------------------


@router.get("/escalation-policies")
async def policies(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    items = await svc.policies.list(page.who)
    used: dict[str, list[Any]] = {}
    for s in await svc.catalog.list(page.who):
        if s.escalation_policy_id:
            used.setdefault(s.escalation_policy_id, []).append(s)
    names = await _names(svc, page)
    starter = [{"targets": [{"type": "user", "id": page.who.user_id}], "delay_seconds": 300}]
    return render(
        request,
        page,
        "policies.html",
        title="Escalation policies",
        policies=items,
        used=used,
        names=names,
        starter=_levels_json(starter),
        default_delay=svc.settings.escalation_timeout_seconds,
    )


@router.get("/escalation-policies/{policy_id}")
async def policy(request: Request, policy_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    item = await svc.policies.get(page.who, policy_id)
    used = [s for s in await svc.catalog.list(page.who) if s.escalation_policy_id == policy_id]
    return render(
        request,
        page,
        "policy.html",
        title=item.name,
        policy=item,
        used=used,
        names=await _names(svc, page),
        levels_json=_levels_json([lv.model_dump(mode="json") for lv in item.levels]),
        default_delay=svc.settings.escalation_timeout_seconds,
    )


# --- webhooks (the API lets admins alone read them) -------------------------------------


@router.get("/webhooks")
async def webhooks(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    items = await svc.webhooks.list(page.who)
    all_services = await svc.catalog.list(page.who)
    return render(
        request,
        page,
        "webhooks.html",
        title="Webhooks",
        webhooks=items,
        services=all_services,
        service_names={s.id: s.name for s in all_services},
        events=ALL_EVENTS,
    )


@router.get("/webhooks/{webhook_id}")
async def webhook(request: Request, webhook_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    item = await svc.webhooks.get(page.who, webhook_id)
    deliveries = await svc.webhooks.deliveries(page.who, webhook_id, DELIVERIES)
    all_services = await svc.catalog.list(page.who)
    return render(
        request,
        page,
        "webhook.html",
        title=item.name,
        webhook=item,
        deliveries=deliveries,
        services=all_services,
        service_names={s.id: s.name for s in all_services},
        events=ALL_EVENTS,
        headers_json=json.dumps(item.headers, indent=2) if item.headers else "",
    )
