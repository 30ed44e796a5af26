"""Grafana OnCall's integration URLs: `/integrations/v1/<type>/<token>/`, where the token
is an OnCallNova integration key, so that alert rules pointing at Grafana OnCall need
only a new host and token. Each type is read as Grafana OnCall read it (see
`alerts/formats/grafana_oncall.py`). Answers `200` once the alerts are stored, with the
native answer's body (Grafana OnCall answered `"Ok."`; its senders read only the status).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from oncallnova.alerts.formats import grafana_oncall as go
from oncallnova.alerts.formats.errors import field_messages, unknown_fields
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.errors import NotFound
from oncallnova.services.api import ServiceRoute
from oncallnova.transport.http import ratelimit
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.http.errors import BadRequest
from oncallnova.transport.http.ingest_routes import ERRORS, accepted, parse

router = APIRouter(tags=["ingestion"])
PREFIX = "/integrations/v1/{integration_type}/{token}/"
_group = TypeAdapter(go.AlertGroup)
_object = TypeAdapter(dict[str, Any])
_formatted = TypeAdapter(go.FormattedWebhook)
_PATH = [
    {
        "name": "integration_type",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(go.TYPES)},
    },
    {
        "name": "token",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "An OnCallNova integration key",
    },
]


async def _authenticate(request: Request) -> ServiceRoute:
    token = request.path_params["token"]
    route = await use_cases(request).ingestion.authenticate(token)
    await ratelimit.check_key(request, token)
    return route


def _alerts(kind: str, body: bytes) -> tuple[list[NormalizedAlert], list[str]]:
    if kind in ("alertmanager", "grafana_alerting"):
        group = parse(_group, body)
        assert isinstance(group, go.AlertGroup)
        return [go.group_alert(group, kind)], []
    if kind == "formatted_webhook":
        hook = parse(_formatted, body)
        assert isinstance(hook, go.FormattedWebhook)
        return [go.formatted_alert(hook)], unknown_fields(hook)
    document = parse(_object, body)
    assert isinstance(document, dict)
    if kind == "webhook":
        return [go.webhook_alert(document)], []
    try:
        if "alerts" in document:
            return go.grafana_entries(go.GrafanaEntries.model_validate(document)), []
        return [go.legacy_alert(go.LegacyGrafana.model_validate(document))], []
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _invalid(exc: ValidationError) -> BadRequest:
    messages = field_messages(exc)
    return BadRequest(422, "invalid alert: " + "; ".join(messages[:5]), messages)


@router.post(
    PREFIX,
    status_code=200,
    summary="Grafana OnCall integration URL (alertmanager, grafana_alerting, grafana, "
    "webhook, formatted_webhook)",
    responses={200: {"description": "Stored"}, 404: {"description": "Unknown type"}, **ERRORS},
    openapi_extra={
        "parameters": _PATH,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
    },
)
async def post_integration(request: Request) -> Response:
    svc = use_cases(request)
    kind = request.path_params["integration_type"]
    if kind not in go.TYPES:
        raise NotFound(f"unknown integration type '{kind}'; accepted: {', '.join(go.TYPES)}")
    route = await _authenticate(request)
    svc.ingestion.refuse_if_full()  # before the body is read
    alerts, warnings = _alerts(kind, await request.body())
    if not alerts:  # a `grafana` body with an empty list of alerts
        return accepted([], warnings, status=200)
    return accepted(await svc.ingestion.ingest(route, alerts, "grafana_oncall"), warnings, 200)


async def heartbeat(request: Request) -> JSONResponse:
    """Records that the integration is alive (its latest beat and how many it sent)."""
    route = await _authenticate(request)
    kind = request.path_params["integration_type"][:64]
    beat = await use_cases(request).integration_beats.beat(route, kind)
    return JSONResponse(
        {"status": "ok", "last_beat_at": beat.last_beat_at.isoformat(), "beats": beat.beats}
    )


for _method in ("GET", "POST"):
    router.add_api_route(
        PREFIX + "heartbeat/",
        heartbeat,
        methods=[_method],
        summary=f"Grafana OnCall integration heartbeat ({_method})",
        responses={200: {"description": "Beat recorded"}, 401: ERRORS[401]},
        openapi_extra={"parameters": _PATH},
        name=f"heartbeat_{_method.lower()}",
    )
