"""Opsgenie's Alert API: create, close, acknowledge, add a note, and the request status
Opsgenie's clients poll; answered as Opsgenie answers (`{"result", "took", "requestId"}`,
errors as `{"message", "took", "requestId"}` with `errors` naming each field).

Authenticated by `Authorization: GenieKey <integration key>`, where the key is an
OnCallNova integration key. The work is done before the 202 is sent (Opsgenie does it
afterwards), so the request status is there as soon as the call returns.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter

from oncallnova.alerts.api import AlertRef, Requester, RequestOutcome
from oncallnova.alerts.formats import opsgenie
from oncallnova.alerts.formats.errors import unknown_fields
from oncallnova.core.errors import NotFound, Unauthenticated
from oncallnova.services.api import ServiceRoute
from oncallnova.transport.http import ratelimit
from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.http.errors import BadRequest
from oncallnova.transport.http.ingest_routes import parse

router = APIRouter(tags=["ingestion"])
PREFIX = "/v2/alerts"
MISSING_KEY = "missing integration key: send it as 'Authorization: GenieKey <key>'"
NOT_FOUND = "Request not found. It might not be processed, yet."
_create = TypeAdapter(opsgenie.OgCreate)
_action = TypeAdapter(opsgenie.OgAction)
IDENTIFIER_TYPES = ("id", "tiny", "alias")


class OgAccepted(BaseModel):
    result: str = "Request will be processed"
    took: float
    requestId: str
    warnings: list[str] | None = Field(
        default=None, description="Fields that were ignored; absent when there are none."
    )


class OgStatus(BaseModel):
    success: bool
    action: str
    processedAt: str
    integrationId: str = Field(description="The id of the OnCallNova service of the key.")
    isSuccess: bool
    status: str
    alertId: str | None
    alias: str | None


class OgStatusAnswer(BaseModel):
    data: OgStatus
    took: float
    requestId: str


class OgError(BaseModel):
    message: str
    took: float
    requestId: str
    errors: dict[str, str] | None = None


def error_body(status: int, detail: str, errors: list[str]) -> dict[str, object]:
    """Opsgenie's error body; `errors` maps each field to its problem."""
    body: dict[str, object] = {"message": detail, "took": 0.0, "requestId": str(uuid.uuid4())}
    if errors:
        fields: dict[str, str] = {}
        for line in errors:
            name, sep, problem = line.partition(": ")
            fields[name if sep else "body"] = problem if sep else line
        body["errors"] = fields
    return body


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OgError, "description": "Malformed JSON"},
    401: {"model": OgError, "description": "Missing, unknown or revoked integration key"},
    413: {"description": "Body over the size limit"},
    422: {"model": OgError, "description": "A field is missing or wrong; `errors` names each"},
    429: {"model": OgError, "description": "Too many requests; retry after `Retry-After`"},
}
_GENIE_KEY = {
    "name": "Authorization",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "GenieKey <integration key>",
}
_IDENTIFIER = {"name": "identifier", "in": "path", "required": True, "schema": {"type": "string"}}
_IDENTIFIER_TYPE = {
    "name": "identifierType",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": list(IDENTIFIER_TYPES), "default": "id"},
    "description": "id: the alert id; alias: the alert's alias; tiny: its incident's number",
}


def _body_schema(name: str, required: bool) -> dict[str, Any]:
    return {
        "required": required,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


async def _authenticate(request: Request) -> tuple[ServiceRoute, str]:
    scheme, _, key = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "geniekey" or not key.strip():
        raise Unauthenticated(MISSING_KEY)
    key = key.strip()
    route = await use_cases(request).ingestion.authenticate(key)
    await ratelimit.check_key(request, key)
    return route, key


def _accepted(started: float, outcome: RequestOutcome, warnings: list[str]) -> JSONResponse:
    answer = OgAccepted(
        took=round(time.perf_counter() - started, 3),
        requestId=outcome.request_id,
        warnings=warnings or None,
    )
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=202)


@router.post(
    PREFIX,
    status_code=202,
    summary="Opsgenie Alert API: create an alert",
    responses={202: {"model": OgAccepted}, **_ERRORS},
    openapi_extra={"parameters": [_GENIE_KEY], "requestBody": _body_schema("OgCreate", True)},
)
async def create_alert(request: Request) -> JSONResponse:
    """Dedup on `alias`: a repeat of an open alert counts it; priority P1 is critical, P2
    high, P3 medium, P4 and P5 low; tags become labels."""
    started = time.perf_counter()
    svc = use_cases(request)
    route, _ = await _authenticate(request)
    svc.ingestion.refuse_if_full()  # before the body is read
    create = parse(_create, await request.body())
    assert isinstance(create, opsgenie.OgCreate)
    alias = opsgenie.alias_of(create)
    who = Requester(user=create.user, source=create.source, note=create.note)
    outcome = await svc.alert_requests.create(route, opsgenie.to_alert(create, alias), alias, who)
    return _accepted(started, outcome, unknown_fields(create))


async def _act(request: Request, kind: Literal["close", "acknowledge", "notes"]) -> JSONResponse:
    started = time.perf_counter()
    svc = use_cases(request)
    route, _ = await _authenticate(request)
    svc.ingestion.refuse_if_full()
    identifier_type = request.query_params.get("identifierType", "id")
    if identifier_type not in IDENTIFIER_TYPES:
        message = f"must be one of {', '.join(IDENTIFIER_TYPES)}"
        raise BadRequest(422, f"identifierType: {message}", [f"identifierType: {message}"])
    body = await request.body()
    action = parse(_action, body) if body.strip() else opsgenie.OgAction()
    assert isinstance(action, opsgenie.OgAction)
    if kind == "notes" and not action.note:
        raise BadRequest(422, "note: Field required", ["note: Field required"])
    ref = AlertRef(request.path_params["identifier"], identifier_type)  # type: ignore[arg-type]
    who = Requester(user=action.user, source=action.source, note=action.note)
    requests = svc.alert_requests
    if kind == "close":
        outcome = await requests.close(route, ref, who)
    elif kind == "acknowledge":
        outcome = await requests.acknowledge(route, ref, who)
    else:
        outcome = await requests.add_note(route, ref, who)
    return _accepted(started, outcome, unknown_fields(action))


def _action_route(kind: Literal["close", "acknowledge", "notes"], summary: str) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        return await _act(request, kind)

    endpoint.__name__ = f"alert_{kind}"
    router.post(
        PREFIX + "/{identifier:path}/" + kind,
        status_code=202,
        summary=summary,
        responses={202: {"model": OgAccepted}, **_ERRORS},
        openapi_extra={
            "parameters": [
                _IDENTIFIER,
                _IDENTIFIER_TYPE,
                _GENIE_KEY,
            ],
            "requestBody": _body_schema("OgAction", kind == "notes"),
        },
    )(endpoint)


_action_route("close", "Opsgenie Alert API: close an alert (resolves it)")
_action_route("acknowledge", "Opsgenie Alert API: acknowledge an alert (and its incident)")
_action_route("notes", "Opsgenie Alert API: add a note (on the alert's incident)")


@router.get(
    PREFIX + "/requests/{request_id}",
    summary="Opsgenie Alert API: the outcome of a request",
    responses={200: {"model": OgStatusAnswer}, 401: _ERRORS[401], 404: {"model": OgError}},
    openapi_extra={
        "parameters": [
            {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}},
            _GENIE_KEY,
        ]
    },
)
async def request_status(request: Request) -> JSONResponse:
    """Kept for a day; only the key's own service's requests are found."""
    started = time.perf_counter()
    route, _ = await _authenticate(request)
    outcome = await use_cases(request).alert_requests.outcome(
        route, request.path_params["request_id"]
    )
    if outcome is None:
        raise NotFound(NOT_FOUND)
    processed = outcome.processed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    status = OgStatus(
        success=outcome.success,
        action=outcome.action,
        processedAt=processed,
        integrationId=outcome.service_id,
        isSuccess=outcome.success,
        status=outcome.status,
        alertId=outcome.alert_id,
        alias=outcome.alias,
    )
    answer = OgStatusAnswer(
        data=status, took=round(time.perf_counter() - started, 3), requestId=str(uuid.uuid4())
    )
    return JSONResponse(answer.model_dump())


def extra_schemas() -> dict[str, object]:
    ref = "#/components/schemas/{model}"
    return {
        "OgCreate": opsgenie.OgCreate.model_json_schema(ref_template=ref),
        "OgAction": opsgenie.OgAction.model_json_schema(ref_template=ref),
    }
