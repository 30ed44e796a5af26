"""PagerDuty Events API v2: `POST /v2/enqueue`, answering as PagerDuty does."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from oncallnova.alerts.formats import pagerduty
from oncallnova.alerts.formats.errors import field_messages, unknown_fields
from oncallnova.core.errors import Overloaded, Unauthenticated
from oncallnova.transport.http import ratelimit
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.http.text_guard import InvalidText

router = APIRouter(tags=["ingestion"])
_event = TypeAdapter(pagerduty.PdEvent)


class PdAccepted(BaseModel):
    status: str = "success"
    message: str = "Event processed"
    dedup_key: str
    warnings: list[str] | None = Field(
        default=None, description="Fields that were ignored; absent when there are none."
    )


class PdInvalid(BaseModel):
    status: str = "invalid event"
    message: str = "Event object is invalid"
    errors: list[str]


def invalid(errors: list[str], status: int = 400) -> JSONResponse:
    return JSONResponse(PdInvalid(errors=errors).model_dump(), status_code=status)


def throttle(exc: Overloaded) -> JSONResponse:
    return JSONResponse(
        {"status": "throttle event", "message": "Requests are arriving too quickly; retry."},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
    )


@router.post(
    "/v2/enqueue",
    status_code=202,
    summary="PagerDuty Events API v2",
    responses={202: {"model": PdAccepted}, 400: {"model": PdInvalid}, 429: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PdEvent"}}},
        }
    },
)
async def enqueue(request: Request) -> JSONResponse:
    ingestion = use_cases(request).ingestion
    try:
        # The key is in the body: a full queue refuses before reading it.
        ingestion.refuse_if_full()
    except Overloaded as exc:
        return throttle(exc)
    try:
        body = await request.body()
    except InvalidText as exc:  # answered as PagerDuty answers an invalid event
        return invalid(exc.errors)
    try:
        event = _event.validate_json(body)
    except ValidationError as exc:
        return invalid(field_messages(exc))
    try:
        route = await ingestion.authenticate(event.routing_key)
    except Unauthenticated as exc:
        return invalid([f"routing_key: {exc.message}"])
    if (throttled := await ratelimit.pagerduty_throttle(request, event.routing_key)) is not None:
        return throttled
    alert = pagerduty.to_alert(event)
    try:
        results = await ingestion.ingest(route, [alert], "pagerduty")
    except Overloaded as exc:
        return throttle(exc)
    dedup_key = alert.dedup_key or results[0].fingerprint
    # PagerDuty's own answer has no warnings; they appear only when there are some.
    answer = PdAccepted(dedup_key=dedup_key, warnings=unknown_fields(event) or None)
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=202)


def extra_schemas() -> dict[str, object]:
    return {
        "PdEvent": pagerduty.PdEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    }
