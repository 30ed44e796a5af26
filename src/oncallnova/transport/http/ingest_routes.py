"""Ingestion endpoints: native alerts and the Alertmanager webhook.

Bodies are validated straight from the raw bytes (`validate_json`), the fastest path
pydantic offers; the OpenAPI document still describes them through `openapi_extra`.
"""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import Field, TypeAdapter, ValidationError

from oncallnova.alerts.formats import alertmanager, native
from oncallnova.alerts.formats.errors import field_messages
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertIn, AlertResult, IngestResponse
from oncallnova.transport.http import ratelimit
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.http.errors import BadRequest

router = APIRouter(tags=["ingestion"])

_one = TypeAdapter(AlertIn)
_webhook = TypeAdapter(alertmanager.AmWebhook)
ERRORS = {
    400: {"description": "Malformed JSON"},
    401: {"description": "Missing, unknown or revoked integration key"},
    413: {"description": "Body over the size limit"},
    422: {"description": "A field is missing or wrong; `errors` names each"},
    429: {"description": "Ingestion queue full; retry after `Retry-After` seconds"},
}


def routing_key(request: Request) -> str | None:
    """The integration key: the `X-Routing-Key` header, else `?routing_key=` (for
    senders that cannot set headers); the header wins when both are sent."""
    return request.headers.get("x-routing-key") or request.query_params.get("routing_key")


def parse(adapter: TypeAdapter[object], body: bytes, prefix: str = "") -> object:
    if not body.strip():
        raise BadRequest(400, "empty request body; expected JSON")
    try:
        return adapter.validate_json(body)
    except ValidationError as exc:
        messages = field_messages(exc, prefix)
        if any(e["type"] == "json_invalid" for e in exc.errors(include_url=False)):
            raise BadRequest(400, "malformed JSON body: " + messages[0], messages) from exc
        raise BadRequest(422, "invalid alert: " + "; ".join(messages[:5]), messages) from exc


@functools.cache
def _batch_adapter(max_batch: int) -> TypeAdapter[list[AlertIn]]:
    """Built once per limit: building an adapter costs far more than using it."""
    return TypeAdapter(Annotated[list[AlertIn], Field(max_length=max_batch)])


def native_alerts(body: bytes, max_batch: int) -> tuple[list[NormalizedAlert], list[str]]:
    """The alerts of a native body, and warnings naming the fields it ignored."""
    batched = body.lstrip()[:1] == b"["
    if batched:
        batch = _batch_adapter(max_batch)
        try:
            items = batch.validate_json(body)
        except ValidationError as exc:
            if any(e["type"] == "too_long" and e["loc"] == () for e in exc.errors()):
                raise BadRequest(
                    413, f"batch too large: at most {max_batch} alerts per request"
                ) from exc
            raise parse_error(exc) from exc
        if not items:
            raise BadRequest(422, "empty batch: send at least one alert")
    else:
        items = [parse(_one, body)]  # type: ignore[list-item]
    return native.to_alerts(items), native.warnings(items, batch=batched)


def parse_error(exc: ValidationError) -> BadRequest:
    messages = field_messages(exc, "alerts")
    if any(e["type"] == "json_invalid" for e in exc.errors(include_url=False)):
        return BadRequest(400, "malformed JSON body: " + messages[0], messages)
    return BadRequest(422, "invalid alert: " + "; ".join(messages[:5]), messages)


def accepted(
    results: list[AlertResult], warnings: list[str] | None = None, status: int = 202
) -> Response:
    """The answer once stored (202 unless the format's senders expect another); the
    results are ours, so they are serialised without validation."""
    body = IngestResponse.model_construct(
        accepted=len(results), alerts=results, warnings=warnings or []
    ).model_dump_json()
    return Response(body, status_code=status, media_type="application/json")


_ALERT_SCHEMA = AlertIn.model_json_schema(ref_template="#/components/schemas/{model}")
# The handlers read the key from the raw request (no parameter solving on the hot path);
# these describe it in the OpenAPI document.
_KEY_HEADER = {
    "name": "X-Routing-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "Integration key",
}
_KEY_QUERY = {
    "name": "routing_key",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "Integration key, if no X-Routing-Key header is sent",
}


@router.post(
    "/api/v1/alerts",
    status_code=202,
    summary="Send one alert or a batch",
    responses={202: {"model": IngestResponse}, **ERRORS},
    openapi_extra={
        "parameters": [_KEY_HEADER, _KEY_QUERY],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/AlertIn"},
                            {"type": "array", "items": {"$ref": "#/components/schemas/AlertIn"}},
                        ]
                    }
                }
            },
        },
    },
)
async def post_alerts(request: Request) -> Response:
    """Store alerts; the 202 answer is sent after they are committed."""
    svc = use_cases(request)
    ingestion = svc.ingestion
    key = routing_key(request)
    route = await ingestion.authenticate(key)
    await ratelimit.check_key(request, key or "")
    ingestion.refuse_if_full()  # before the body is read: a refused batch costs nothing
    alerts, warnings = native_alerts(await request.body(), svc.settings.max_batch_alerts)
    return accepted(await ingestion.ingest(route, alerts, "native"), warnings)


@router.post(
    "/api/v1/integrations/alertmanager",
    status_code=202,
    summary="Prometheus Alertmanager webhook receiver (payload version 4)",
    responses={202: {"model": IngestResponse}, **ERRORS},
    openapi_extra={
        "parameters": [_KEY_HEADER, _KEY_QUERY],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AmWebhook"}}},
        },
    },
)
async def post_alertmanager(request: Request) -> Response:
    ingestion = use_cases(request).ingestion
    key = routing_key(request)
    route = await ingestion.authenticate(key)
    await ratelimit.check_key(request, key or "")
    ingestion.refuse_if_full()
    hook = parse(_webhook, await request.body())
    assert isinstance(hook, alertmanager.AmWebhook)
    return accepted(await ingestion.ingest(route, alertmanager.to_alerts(hook), "alertmanager"))


def extra_schemas() -> dict[str, object]:
    """Schemas referenced only from `openapi_extra`, for the OpenAPI document."""
    return {
        "AlertIn": _ALERT_SCHEMA,
        "AmWebhook": alertmanager.AmWebhook.model_json_schema(
            ref_template="#/components/schemas/{model}"
        ),
    }
